# Models are governed by what Wharf read from them (input.artifact.model): no pickle whose
# loading would run code beyond tensor reconstruction, a licence from an allow-list, and in
# production namespaces a verified SLSA provenance.
# Parameters: data.wharf.params.model_governance (see README.md).
package wharf.policies.model_governance

default params := {}

params := data.wharf.params.model_governance

default_licenses := ["Apache-2.0", "MIT", "BSD-2-Clause", "BSD-3-Clause", "CC-BY-4.0", "CC0-1.0"]

allowed_licenses := {lower(l) | some l in object.get(params, "allowedLicenses", default_licenses)}

# A pickle that could not be scanned to its end is refused too, unless allowed.
refuse_unscanned := object.get(params, "refuseUnscanned", true)

# false: every pickle-based file is refused, even one importing only tensor reconstruction.
allow_safe_pickle := object.get(params, "allowSafePickle", true)

# Namespaces that are production: by name (exact or /regex/) or by a namespace label.
production_namespaces := object.get(params, "productionNamespaces", [])

production_label := object.get(params, "productionLabel", {"environment": "production"})

builders := object.get(params, "builders", [])

predicate_types := object.get(params, "predicateTypes", [
	"https://slsa.dev/provenance/v1",
	"https://slsa.dev/provenance/v0.2",
])

applies if input.point in {"push", "pull"}

applies if {
	input.point == "admission"
	input.artifact != null
}

model := input.artifact.model if is_object(input.artifact.model)

where := sprintf("%s@%s", [object.get(input.artifact, "repository", "?"), object.get(input.artifact, "digest", "?")])

matches(value, pattern) if {
	startswith(pattern, "/")
	endswith(pattern, "/")
	count(pattern) > 1
	regex.match(substring(pattern, 1, count(pattern) - 2), value)
}

matches(value, pattern) if {
	not startswith(pattern, "/")
	value == pattern
}

deny contains violation if {
	applies
	some finding in model.findings
	finding.severity == "dangerous"
	violation := {
		"msg": sprintf("%s: %s would run code when loaded (%s)", [where, object.get(finding, "path", finding.digest), concat(", ", finding.imports)]),
		"code": "MODEL_DANGEROUS_PICKLE",
		"details": {"path": finding.path, "digest": finding.digest, "format": finding.format, "imports": finding.imports},
	}
}

deny contains violation if {
	applies
	refuse_unscanned
	some finding in model.findings
	finding.severity == "unscanned"
	violation := {
		"msg": sprintf("%s: %s is pickle-based and could not be scanned: %s", [where, object.get(finding, "path", finding.digest), finding.reason]),
		"code": "MODEL_UNSCANNED_PICKLE",
		"details": {"path": finding.path, "digest": finding.digest, "format": finding.format, "reason": finding.reason},
	}
}

deny contains violation if {
	applies
	not allow_safe_pickle
	some file in model.files
	file.format in {"pickle", "pytorch-zip"}
	violation := {
		"msg": sprintf("%s: %s is pickle-based; only formats that do not run code (safetensors, GGUF …) are allowed", [where, object.get(file, "path", file.digest)]),
		"code": "MODEL_PICKLE_FORMAT",
		"details": {"path": file.path, "digest": file.digest, "format": file.format},
	}
}

deny contains violation if {
	applies
	count(object.get(model, "licenses", [])) == 0
	violation := {
		"msg": sprintf("%s: the model declares no licence", [where]),
		"code": "MODEL_LICENSE_MISSING",
		"details": {"allowed": sort([l | some l in allowed_licenses])},
	}
}

deny contains violation if {
	applies
	some licence in model.licenses
	not lower(licence) in allowed_licenses
	violation := {
		"msg": sprintf("%s: model licence %q is not on the allow-list", [where, licence]),
		"code": "MODEL_LICENSE_NOT_ALLOWED",
		"details": {"license": licence},
	}
}

production if {
	some pattern in production_namespaces
	matches(object.get(input.artifact, "namespace", ""), pattern)
}

production if {
	count(production_label) > 0
	labels := object.get(object.get(input, "namespace", {}), "labels", {})
	every key, value in production_label {
		object.get(labels, key, null) == value
	}
}

trusted_builder(_) if count(builders) == 0

trusted_builder(att) if {
	is_string(att.builder)
	some pattern in builders
	matches(att.builder, pattern)
}

has_provenance if {
	trust := object.get(input, "trust", {})
	some att in object.get(trust, "attestations", [])
	att.predicateType in predicate_types
	att.verified == true
	trusted_builder(att)
}

deny contains violation if {
	applies
	model
	production
	not has_provenance
	violation := {
		"msg": sprintf("%s: models in production namespace %s need a verified SLSA provenance%s", [where, object.get(input.artifact, "namespace", "?"), builder_note]),
		"code": "MODEL_PROVENANCE_MISSING",
		"details": {"namespace": object.get(input.artifact, "namespace", null), "builders": builders},
	}
}

default builder_note := ""

builder_note := " from a trusted builder" if count(builders) > 0
