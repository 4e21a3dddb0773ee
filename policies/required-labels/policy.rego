# Configured image labels (config.Labels) and manifest annotations must be present and, when a
# pattern is given, match it.
# Parameters: data.wharf.params.required_labels (see README.md).
package wharf.policies.required_labels

default params := {}

params := data.wharf.params.required_labels

# Each requirement is a map name → regular expression ("" accepts any non-empty value);
# a plain list of names is accepted as shorthand for "present, any value".
requirements(spec) := spec if is_object(spec)

requirements(spec) := {name: "" | some name in spec} if is_array(spec)

required_labels := requirements(object.get(params, "labels", {"org.opencontainers.image.source": ""}))

required_annotations := requirements(object.get(params, "annotations", {}))

# An index has no image config and so no labels; its children are judged on their own.
is_index if input.artifact.config == null

# A signature, attestation or SBOM is judged with its subject, never on its own: it is the evidence
# this policy reads about the subject (and is not itself signed, built or scanned), so it stays
# readable and verifiable whatever is decided about the subject. Wharf gives an attachment's input a
# `subject` (its subject's facts and trust); older inputs name the subject in artifact.subject.
is_attachment if is_object(input.subject)

is_attachment if is_string(input.artifact.subject)

applies if {
	input.point in {"push", "pull"}
	not is_attachment
}

applies if {
	input.point == "admission"
	input.artifact != null
}

checks contains ["label", name, pattern, object.get(object.get(input.artifact, "labels", {}), name, null)] if {
	not is_index
	some name, pattern in required_labels
}

checks contains ["annotation", name, pattern, object.get(object.get(input.artifact, "annotations", {}), name, null)] if {
	some name, pattern in required_annotations
}

missing(value) if value == null

missing(value) if value == ""

deny contains violation if {
	applies
	some [kind, name, _, value] in checks
	missing(value)
	violation := {
		"msg": sprintf("%s: required %s %q is missing", [input.artifact.repository, kind, name]),
		"code": "LABEL_MISSING",
		"details": {"kind": kind, "name": name},
	}
}

deny contains violation if {
	applies
	some [kind, name, pattern, value] in checks
	not missing(value)
	pattern != ""
	not regex.match(pattern, sprintf("%v", [value]))
	violation := {
		"msg": sprintf("%s: %s %q = %q does not match %q", [input.artifact.repository, kind, name, sprintf("%v", [value]), pattern]),
		"code": "LABEL_INVALID",
		"details": {"kind": kind, "name": name, "value": value, "pattern": pattern},
	}
}
