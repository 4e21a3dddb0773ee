/**
 * Media types of the three model artifact families Wharf understands, and what a layer is from
 * its media type and file name. Sources: the CNCF ModelPack spec (model-spec docs/spec.md and
 * config.md), KitOps' ModelKit media types, and Docker's model-distribution types.
 */

export type ModelFamily = 'modelpack' | 'kitops' | 'docker';

export const MODELPACK_ARTIFACT_TYPE = 'application/vnd.cncf.model.manifest.v1+json';
export const MODELPACK_CONFIG = 'application/vnd.cncf.model.config.v1+json';
/** One file per layer, stored as is; `.tar`, `.tar+gzip` and `.tar+zstd` variants hold archives. */
export const MODELPACK_WEIGHT_RAW = 'application/vnd.cncf.model.weight.v1.raw';
export const MODELPACK_WEIGHT_CONFIG_RAW = 'application/vnd.cncf.model.weight.config.v1.raw';
export const MODELPACK_DOC_RAW = 'application/vnd.cncf.model.doc.v1.raw';
export const MODELPACK_CODE_RAW = 'application/vnd.cncf.model.code.v1.raw';
export const MODELPACK_DATASET_RAW = 'application/vnd.cncf.model.dataset.v1.raw';
/** The layer annotation naming the file's path inside the model directory. */
export const MODELPACK_FILEPATH_ANNOTATION = 'org.cncf.model.filepath';
export const OCI_TITLE_ANNOTATION = 'org.opencontainers.image.title';

export const KITOPS_CONFIG = 'application/vnd.kitops.modelkit.config.v1+json';
export const KITOPS_PREFIX = 'application/vnd.kitops.modelkit.';

export const DOCKER_PREFIX = 'application/vnd.docker.ai.';
export const DOCKER_CONFIG_PREFIX = 'application/vnd.docker.ai.model.config.';
export const DOCKER_GGUF = 'application/vnd.docker.ai.gguf.v3';
export const DOCKER_SAFETENSORS = 'application/vnd.docker.ai.safetensors';
export const DOCKER_LICENSE = 'application/vnd.docker.ai.license';
export const DOCKER_CHAT_TEMPLATE = 'application/vnd.docker.ai.chat.template.jinja';

const MODELPACK_PREFIX = 'application/vnd.cncf.model.';

/** The family of a manifest from its artifact type, config media type and layer media types. */
export function modelFamily(artifactType: string | undefined, configMediaType: string | undefined, layerMediaTypes: readonly string[]): ModelFamily | undefined {
  const all = [artifactType, configMediaType, ...layerMediaTypes].filter((type): type is string => typeof type === 'string');
  if (artifactType === MODELPACK_ARTIFACT_TYPE || configMediaType === MODELPACK_CONFIG) return 'modelpack';
  if (configMediaType === KITOPS_CONFIG || artifactType?.startsWith(KITOPS_PREFIX)) return 'kitops';
  if (configMediaType?.startsWith(DOCKER_CONFIG_PREFIX)) return 'docker';
  // Without a telling config, the layers decide (a model pushed with a generic config).
  if (all.some((type) => type.startsWith(MODELPACK_PREFIX))) return 'modelpack';
  if (all.some((type) => type.startsWith(KITOPS_PREFIX))) return 'kitops';
  if (all.some((type) => type.startsWith(DOCKER_PREFIX))) return 'docker';
  return undefined;
}

/** What a file is, as far as reading its header goes. */
export type FileFormat = 'safetensors' | 'gguf' | 'pickle' | 'pytorch-zip' | 'onnx' | 'keras' | 'numpy' | 'license' | 'chat-template' | 'doc' | 'config' | 'archive' | 'other';

/** Formats whose loading runs code chosen by the file (pickle, with or without a zip around it). */
export const CODE_EXECUTING_FORMATS: ReadonlySet<FileFormat> = new Set(['pickle', 'pytorch-zip']);
export const WEIGHT_FORMATS: ReadonlySet<FileFormat> = new Set(['safetensors', 'gguf', 'pickle', 'pytorch-zip', 'onnx', 'keras', 'numpy']);

const EXTENSION_FORMATS: Record<string, FileFormat> = {
  safetensors: 'safetensors', gguf: 'gguf', pkl: 'pickle', pickle: 'pickle', bin: 'pickle', pt: 'pickle', pth: 'pickle', ckpt: 'pickle',
  onnx: 'onnx', h5: 'keras', keras: 'keras', npy: 'numpy', npz: 'numpy', md: 'doc', txt: 'doc', json: 'config', yaml: 'config', yml: 'config',
  jinja: 'chat-template', tar: 'archive', tgz: 'archive', gz: 'archive', zst: 'archive',
};

/** Whether the layer's bytes are the file itself (not an archive of files). */
export function isRawLayer(mediaType: string): boolean {
  if (mediaType.startsWith(KITOPS_PREFIX)) return false; // ModelKit layers are tar archives
  if (mediaType.startsWith(MODELPACK_PREFIX)) return mediaType.endsWith('.raw') || /\.v1\.(gguf|safetensors)$/.test(mediaType);
  if (mediaType.startsWith(DOCKER_PREFIX)) return !mediaType.endsWith('.tar');
  return true;
}

/** A file's format from its layer media type, else its name; `.bin` may be pickle or raw bytes, so callers sniff. */
export function fileFormat(mediaType: string, path: string | undefined): FileFormat {
  if (mediaType === DOCKER_GGUF || mediaType.endsWith('.gguf') || mediaType.startsWith(`${DOCKER_GGUF}.`)) return 'gguf';
  if (mediaType === DOCKER_SAFETENSORS || mediaType.endsWith('.safetensors')) return 'safetensors';
  if (mediaType === DOCKER_LICENSE) return 'license';
  if (mediaType === DOCKER_CHAT_TEMPLATE) return 'chat-template';
  if (!isRawLayer(mediaType)) return 'archive';
  const name = (path ?? '').toLowerCase().split('/').pop() ?? '';
  if (/^(license|licence|copying)(\.|$)/.test(name)) return 'license';
  const extension = name.includes('.') ? name.slice(name.lastIndexOf('.') + 1) : '';
  const byName = EXTENSION_FORMATS[extension];
  if (byName) return byName;
  if (mediaType === MODELPACK_DOC_RAW) return 'doc';
  if (mediaType === MODELPACK_WEIGHT_CONFIG_RAW) return 'config';
  return 'other';
}
