package wharf.policies.model_governance_test

import data.wharf.policies.model_governance

safe_model := {
	"family": "modelpack", "format": "safetensors", "parameters": 7000000000, "licenses": ["Apache-2.0"],
	"files": [{"path": "model.safetensors", "digest": "sha256:1", "format": "safetensors"}],
	"findings": [],
}

pickle_file := {"path": "pytorch_model.bin", "digest": "sha256:2", "format": "pytorch-zip"}

dangerous := {"path": "pytorch_model.bin", "digest": "sha256:2", "format": "pytorch-zip", "severity": "dangerous", "imports": ["os.system"], "reason": "loading runs os.system"}

provenance := {"predicateType": "https://slsa.dev/provenance/v1", "builder": "https://ci.example/builder", "verified": true}

input_for(model, namespace_labels, attestations) := {
	"point": "push",
	"artifact": {"repository": "ml/llama", "namespace": "ml", "digest": "sha256:abc", "model": model},
	"trust": {"signatures": [], "attestations": attestations},
	"namespace": {"name": "ml", "labels": namespace_labels},
}

deny_for(model) := violations if {
	violations := model_governance.deny with input as input_for(model, {}, [])
}

codes(violations) := {v.code | some v in violations}

test_safe_model_allowed if {
	count(deny_for(safe_model)) == 0
}

test_not_a_model_ignored if {
	violations := model_governance.deny with input as input_for(null, {"environment": "production"}, [])
	count(violations) == 0
}

test_dangerous_pickle_denied if {
	model := object.union(safe_model, {"files": [pickle_file], "findings": [dangerous]})
	some v in deny_for(model)
	v.code == "MODEL_DANGEROUS_PICKLE"
	v.details.imports == ["os.system"]
	contains(v.msg, "pytorch_model.bin would run code when loaded (os.system)")
}

test_harmless_pickle_allowed_by_default if {
	model := object.union(safe_model, {"files": [pickle_file]})
	count(deny_for(model)) == 0
}

test_any_pickle_denied_when_safe_pickle_not_allowed if {
	model := object.union(safe_model, {"files": [pickle_file]})
	violations := model_governance.deny with input as input_for(model, {}, [])
		with data.wharf.params.model_governance as {"allowSafePickle": false}
	codes(violations) == {"MODEL_PICKLE_FORMAT"}
}

test_unscanned_pickle_denied_unless_allowed if {
	finding := object.union(dangerous, {"severity": "unscanned", "imports": [], "reason": "truncated"})
	model := object.union(safe_model, {"findings": [finding]})
	codes(deny_for(model)) == {"MODEL_UNSCANNED_PICKLE"}
	allowed := model_governance.deny with input as input_for(model, {}, []) with data.wharf.params.model_governance as {"refuseUnscanned": false}
	count(allowed) == 0
}

test_missing_licence_denied if {
	codes(deny_for(object.union(safe_model, {"licenses": []}))) == {"MODEL_LICENSE_MISSING"}
}

test_licence_outside_allowlist_denied if {
	some v in deny_for(object.union(safe_model, {"licenses": ["llama3"]}))
	v.code == "MODEL_LICENSE_NOT_ALLOWED"
	v.details.license == "llama3"
}

test_allowlist_is_configurable_and_case_insensitive if {
	model := object.union(safe_model, {"licenses": ["LLAMA3"]})
	violations := model_governance.deny with input as input_for(model, {}, []) with data.wharf.params.model_governance as {"allowedLicenses": ["llama3"]}
	count(violations) == 0
}

test_production_needs_provenance if {
	violations := model_governance.deny with input as input_for(safe_model, {"environment": "production"}, [])
	codes(violations) == {"MODEL_PROVENANCE_MISSING"}
}

test_production_with_verified_provenance_allowed if {
	violations := model_governance.deny with input as input_for(safe_model, {"environment": "production"}, [provenance])
	count(violations) == 0
}

test_unverified_provenance_not_enough if {
	att := object.union(provenance, {"verified": false})
	violations := model_governance.deny with input as input_for(safe_model, {"environment": "production"}, [att])
	codes(violations) == {"MODEL_PROVENANCE_MISSING"}
}

test_production_by_namespace_name_and_trusted_builder if {
	p := {"productionNamespaces": ["/^ml$/"], "builders": ["https://other.example/builder"]}
	violations := model_governance.deny with input as input_for(safe_model, {}, [provenance]) with data.wharf.params.model_governance as p
	some v in violations
	v.code == "MODEL_PROVENANCE_MISSING"
	contains(v.msg, "from a trusted builder")
}

test_non_production_needs_no_provenance if {
	violations := model_governance.deny with input as input_for(safe_model, {"environment": "staging"}, [])
	count(violations) == 0
}
