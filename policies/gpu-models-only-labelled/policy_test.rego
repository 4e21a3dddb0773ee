package wharf.policies.gpu_models_only_labelled_test

import data.wharf.policies.gpu_models_only_labelled as gpu

gib := 1073741824

push(artifact_type, size, labels) := {
	"point": "push",
	"artifact": {
		"repository": "ml/llama", "namespace": "ml", "totalSize": size,
		"mediaType": "application/vnd.oci.image.manifest.v1+json",
		"artifactType": artifact_type,
		"config": {"mediaType": artifact_type, "digest": "sha256:c", "size": 100},
	},
	"namespace": {"name": "ml", "labels": labels},
}

modelpack := "application/vnd.cncf.model.config.v1+json"

test_large_model_in_unlabelled_namespace_denied if {
	some v in gpu.deny with input as push(modelpack, 8 * gib, {"cost-center": "cc-1"})
	v.code == "MODEL_NAMESPACE_NOT_LABELLED"
	v.details.missingLabels == {"gpu"}
	v.msg == "ml/llama: a 8589934592-byte model artifact (application/vnd.cncf.model.config.v1+json) may only be pushed to a namespace labelled gpu=true; ml is not"
}

test_large_model_in_labelled_namespace_allowed if {
	count(gpu.deny) == 0 with input as push(modelpack, 8 * gib, {"gpu": "true"})
}

test_label_value_must_match if {
	count(gpu.deny) == 1 with input as push(modelpack, 8 * gib, {"gpu": "false"})
}

test_small_model_anywhere if {
	count(gpu.deny) == 0 with input as push(modelpack, gib, {})
}

test_docker_and_kitops_models_recognised if {
	count(gpu.deny) == 1 with input as push("application/vnd.docker.ai.model.config.v0.1+json", 2 * gib, {})
	count(gpu.deny) == 1 with input as push("application/vnd.kitops.modelkit.config.v1+json", 2 * gib, {})
}

test_large_container_image_is_not_a_model if {
	count(gpu.deny) == 0 with input as push("application/vnd.oci.image.config.v1+json", 20 * gib, {})
}

test_configured_types_size_and_labels if {
	p := {"modelTypes": ["application/x-onnx*"], "minBytes": 1000, "namespaceLabels": {"accelerator": "nvidia", "tier": "gpu"}}
	inp := push("application/x-onnx-model", 2000, {"accelerator": "nvidia"})
	some v in gpu.deny with input as inp with data.wharf.params.gpu_models_only_labelled as p
	v.details.missingLabels == {"tier"}
	count(gpu.deny) == 0 with input as push("application/x-onnx-model", 2000, {"accelerator": "nvidia", "tier": "gpu"})
		with data.wharf.params.gpu_models_only_labelled as p
	count(gpu.deny) == 0 with input as push(modelpack, 2000, {}) with data.wharf.params.gpu_models_only_labelled as p
}

test_namespace_without_labels_denied if {
	inp := object.remove(push(modelpack, 8 * gib, {}), ["namespace"])
	count(gpu.deny) == 1 with input as inp
}

test_only_at_push if {
	inp := object.union(push(modelpack, 8 * gib, {}), {"point": "pull"})
	count(gpu.deny) == 0 with input as inp
}
