# AI model artifacts above a size may only be pushed to namespaces labelled for GPU workloads:
# large models belong where the GPU budget (and its cost center) is.
# Parameters: data.wharf.params.gpu_models_only_labelled (see README.md).
package wharf.policies.gpu_models_only_labelled

default params := {}

params := data.wharf.params.gpu_models_only_labelled

# Glob patterns over media types: CNCF ModelPack, Docker Model Runner, KitOps ModelKits, Ollama.
model_types := object.get(params, "modelTypes", [
	"application/vnd.cncf.model.*",
	"application/vnd.docker.ai.*",
	"application/vnd.kitops.modelkit.*",
	"application/vnd.ollama.image.*",
])

# 1 GiB: smaller models (embeddings, classifiers) run anywhere.
min_bytes := object.get(params, "minBytes", 1073741824)

required_labels := object.get(params, "namespaceLabels", {"gpu": "true"})

at_push if input.point == "push"

# Every media type that says what the artifact is.
artifact_types contains t if {
	some t in [input.artifact.artifactType, input.artifact.mediaType, object.get(object.get(input.artifact, "config", {}), "mediaType", null)]
	is_string(t)
}

matching_type contains t if {
	some t in artifact_types
	some pattern in model_types
	# null: no delimiters, so "*" spans dots as a media-type wildcard should.
	glob.match(pattern, null, t)
}

is_model if count(matching_type) > 0

namespace_labels := object.get(object.get(input, "namespace", {}), "labels", {})

missing_labels contains name if {
	some name, value in required_labels
	object.get(namespace_labels, name, null) != value
}

deny contains violation if {
	at_push
	is_model
	input.artifact.totalSize > min_bytes
	count(missing_labels) > 0
	violation := {
		"msg": sprintf("%s: a %v-byte model artifact (%s) may only be pushed to a namespace labelled %s; %s is not", [
			input.artifact.repository,
			input.artifact.totalSize,
			concat(", ", matching_type),
			concat(", ", [sprintf("%s=%s", [k, v]) | some k, v in required_labels]),
			input.artifact.namespace,
		]),
		"code": "MODEL_NAMESPACE_NOT_LABELLED",
		"details": {
			"totalSize": input.artifact.totalSize,
			"minBytes": min_bytes,
			"types": matching_type,
			"requiredLabels": required_labels,
			"missingLabels": missing_labels,
		},
	}
}
