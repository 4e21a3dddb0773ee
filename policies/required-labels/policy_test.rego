package wharf.policies.required_labels_test

import data.wharf.policies.required_labels

image(labels, annotations) := {
	"point": "push",
	"artifact": {"repository": "team-a/app", "labels": labels, "annotations": annotations, "config": {"digest": "sha256:c"}},
}

params := {
	"labels": {"org.opencontainers.image.source": "^https://github\\.com/acme/", "maintainer": ""},
	"annotations": ["org.opencontainers.image.revision"],
}

found(labels, annotations) := {[v.code, v.details.name] | some v in violations} if {
	violations := required_labels.deny with input as image(labels, annotations) with data.wharf.params.required_labels as params
}

good_labels := {"org.opencontainers.image.source": "https://github.com/acme/app", "maintainer": "team-a"}

good_annotations := {"org.opencontainers.image.revision": "abc123"}

test_all_present_allowed if {
	found(good_labels, good_annotations) == set()
}

test_default_requires_source_label if {
	some v in required_labels.deny with input as image({}, {})
	v.code == "LABEL_MISSING"
	v.msg == `team-a/app: required label "org.opencontainers.image.source" is missing`
	count(required_labels.deny) == 0 with input as image({"org.opencontainers.image.source": "x"}, {})
}

test_missing_label_denied if {
	found({"org.opencontainers.image.source": "https://github.com/acme/app"}, good_annotations) == {["LABEL_MISSING", "maintainer"]}
}

test_empty_value_counts_as_missing if {
	found(object.union(good_labels, {"maintainer": ""}), good_annotations) == {["LABEL_MISSING", "maintainer"]}
}

test_pattern_mismatch_denied if {
	violations := required_labels.deny with input as image(object.union(good_labels, {"org.opencontainers.image.source": "https://gitlab.com/x"}), good_annotations)
		with data.wharf.params.required_labels as params
	some v in violations
	v.code == "LABEL_INVALID"
	v.details.value == "https://gitlab.com/x"
}

test_missing_annotation_denied if {
	found(good_labels, {}) == {["LABEL_MISSING", "org.opencontainers.image.revision"]}
}

test_labels_are_not_annotations if {
	# The revision set as a label does not satisfy the annotation requirement.
	found(object.union(good_labels, good_annotations), {}) == {["LABEL_MISSING", "org.opencontainers.image.revision"]}
}

test_every_problem_reported if {
	count(found({}, {})) == 3
}

test_index_skips_labels_but_not_annotations if {
	inp := {"point": "push", "artifact": {"repository": "team-a/app", "labels": {}, "annotations": {}, "config": null}}
	violations := required_labels.deny with input as inp with data.wharf.params.required_labels as params
	{v.details.kind | some v in violations} == {"annotation"}
}

test_admission_image_of_this_registry_judged if {
	inp := object.union(image({}, {}), {"point": "admission"})
	count(required_labels.deny) == 1 with input as inp
}

test_admission_foreign_image_not_judged if {
	count(required_labels.deny) == 0 with input as {"point": "admission", "artifact": null}
}
