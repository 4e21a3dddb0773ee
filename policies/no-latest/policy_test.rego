package wharf.policies.no_latest_test

import data.wharf.policies.no_latest

admission(image) := {
	"point": "admission",
	"artifact": null,
	"admission": {"container": {"name": "web", "image": image, "type": "container"}},
}

codes(image) := {v.code | some v in violations} if {
	violations := no_latest.deny with input as admission(image)
}

test_push_latest_denied if {
	some v in no_latest.deny with input as {"point": "push", "artifact": {"repository": "team-a/app", "tag": "latest"}}
	v.code == "TAG_FORBIDDEN"
	v.msg == `team-a/app: the tag "latest" is not allowed, use an immutable version tag`
}

test_pull_latest_denied if {
	count(no_latest.deny) == 1 with input as {"point": "pull", "artifact": {"repository": "team-a/app", "tag": "latest"}}
}

test_push_version_allowed if {
	count(no_latest.deny) == 0 with input as {"point": "push", "artifact": {"repository": "team-a/app", "tag": "v1.2.0"}}
}

test_push_by_digest_allowed if {
	count(no_latest.deny) == 0 with input as {"point": "push", "artifact": {"repository": "team-a/app", "tag": null}}
}

test_tag_is_case_sensitive if {
	count(no_latest.deny) == 0 with input as {"point": "push", "artifact": {"repository": "team-a/app", "tag": "Latest"}}
}

test_configured_tags if {
	inp := {"point": "push", "artifact": {"repository": "team-a/app", "tag": "dev"}}
	count(no_latest.deny) == 1 with input as inp with data.wharf.params.no_latest as {"tags": ["latest", "dev"]}
}

test_admission_untagged_denied if {
	codes("nginx") == {"IMAGE_UNPINNED"}
}

test_admission_port_is_not_a_tag if {
	codes("localhost:5000/team-a/app") == {"IMAGE_UNPINNED"}
	codes("localhost:5000/team-a/app:v1") == set()
}

test_admission_latest_denied if {
	codes("registry.example.com/team-a/app:latest") == {"TAG_FORBIDDEN"}
}

test_admission_version_allowed if {
	codes("registry.example.com/team-a/app:v1.2.0") == set()
}

test_admission_digest_allowed if {
	codes("nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef") == set()
}

test_admission_latest_with_digest_allowed_by_default if {
	codes("nginx:latest@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef") == set()
}

test_admission_latest_with_digest_denied_when_configured if {
	image := "nginx:latest@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	some v in no_latest.deny with input as admission(image) with data.wharf.params.no_latest as {"allowWithDigest": false}
	v.details.tag == "latest"
}

test_admission_message_names_container if {
	some v in no_latest.deny with input as admission("nginx")
	v.msg == `container "web": image "nginx" has neither a tag nor a digest, so it means :latest`
}
