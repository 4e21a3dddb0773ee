/**
 * Every container image of a Kubernetes workload under review: the containers, init containers
 * and ephemeral containers of a Pod, or of the pod template of a Deployment, ReplicaSet,
 * StatefulSet, DaemonSet, Job, ReplicationController, PodTemplate or CronJob. Each image comes
 * with the JSON pointer of its `image` field, which is where a mutating webhook patches it.
 */

export type ContainerType = 'container' | 'initContainer' | 'ephemeralContainer';

export interface WorkloadImage {
  /** JSON pointer of the image field, e.g. `/spec/template/spec/containers/0/image`. */
  readonly path: string;
  readonly containerName: string;
  readonly type: ContainerType;
  /** The reference as written in the object (not yet parsed). */
  readonly image: string;
}

/** The object does not have the shape its kind promises (a container list that is not a list, …). */
export class WorkloadShapeError extends Error {
  /** JSON pointer of the offending value. */
  readonly path: string;

  constructor(path: string, problem: string) {
    super(`${path || '/'}: ${problem}`);
    this.name = 'WorkloadShapeError';
    this.path = path;
  }
}

/** Where the pod spec sits in each kind of object that carries one. */
const POD_SPEC_PATHS: Readonly<Record<string, readonly string[]>> = {
  Pod: ['spec'],
  PodTemplate: ['template', 'spec'],
  Deployment: ['spec', 'template', 'spec'],
  ReplicaSet: ['spec', 'template', 'spec'],
  ReplicationController: ['spec', 'template', 'spec'],
  StatefulSet: ['spec', 'template', 'spec'],
  DaemonSet: ['spec', 'template', 'spec'],
  Job: ['spec', 'template', 'spec'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
};

const CONTAINER_LISTS: readonly [string, ContainerType][] = [
  ['initContainers', 'initContainer'],
  ['containers', 'container'],
  ['ephemeralContainers', 'ephemeralContainer'],
];

/** Kinds whose objects carry containers. */
export function isWorkloadKind(kind: string): boolean {
  return Object.hasOwn(POD_SPEC_PATHS, kind);
}

/** JSON pointer of the pod spec for a kind (`/spec/template/spec`), undefined for other kinds. */
export function podSpecPointer(kind: string): string | undefined {
  return isWorkloadKind(kind) ? toPointer(POD_SPEC_PATHS[kind]) : undefined;
}

/** RFC 6901: `~` and `/` inside a segment are escaped. */
export function toPointer(segments: readonly (string | number)[]): string {
  return segments.map((s) => '/' + String(s).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing (the field is missing)';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * The images of `object`, a workload of the given kind, in the order init containers,
 * containers, ephemeral containers. Kinds without containers give none. A pod spec or container
 * list that is absent gives none too (a Deployment being scaled may omit its template); one of
 * the wrong type, a container that is not an object, a name that is not a string, or an image
 * that is not a non-empty string throws {@link WorkloadShapeError}.
 */
export function workloadImages(kind: string, object: unknown): WorkloadImage[] {
  if (!isWorkloadKind(kind)) return [];
  const specPath = POD_SPEC_PATHS[kind];
  let spec: unknown = object;
  for (let i = 0; i < specPath.length; i++) {
    if (!isObject(spec)) {
      if (spec === undefined || spec === null) return [];
      throw new WorkloadShapeError(toPointer(specPath.slice(0, i)), `expected an object, got ${describe(spec)}`);
    }
    spec = spec[specPath[i]];
  }
  if (spec === undefined || spec === null) return [];
  if (!isObject(spec)) throw new WorkloadShapeError(toPointer(specPath), `the pod spec must be an object, got ${describe(spec)}`);
  const images: WorkloadImage[] = [];
  for (const [field, type] of CONTAINER_LISTS) {
    const list = spec[field];
    if (list === undefined || list === null) continue;
    const listPath = [...specPath, field];
    if (!Array.isArray(list)) throw new WorkloadShapeError(toPointer(listPath), `${field} must be an array, got ${describe(list)}`);
    list.forEach((container: unknown, index: number) => {
      images.push(containerImage(container, [...listPath, index], type));
    });
  }
  return images;
}

function containerImage(container: unknown, path: (string | number)[], type: ContainerType): WorkloadImage {
  if (!isObject(container)) throw new WorkloadShapeError(toPointer(path), `a container must be an object, got ${describe(container)}`);
  // Mutating webhooks run before the API server validates the object, so a missing name is
  // tolerated (and reported as ""); a name of the wrong type is not.
  const name = container['name'] ?? '';
  if (typeof name !== 'string') throw new WorkloadShapeError(toPointer([...path, 'name']), `the container name must be a string, got ${describe(name)}`);
  const image = container['image'];
  const imagePath = [...path, 'image'];
  if (typeof image !== 'string') throw new WorkloadShapeError(toPointer(imagePath), `the image of container ${JSON.stringify(name)} must be a string, got ${describe(image)}`);
  if (image === '') throw new WorkloadShapeError(toPointer(imagePath), `the image of container ${JSON.stringify(name)} is empty`);
  return { path: toPointer(imagePath), containerName: name, type, image };
}
