# No mutable `latest` tag: not pushed or pulled by that tag, and at admission every image must
# name an explicit tag other than `latest` or a digest.
# Parameters: data.wharf.params.no_latest (see README.md).
package wharf.policies.no_latest

default params := {}

params := data.wharf.params.no_latest

forbidden_tags := {t | some t in object.get(params, "tags", ["latest"])}

# A digest pins the content, so `app:latest@sha256:…` is harmless unless configured otherwise.
allow_with_digest := object.get(params, "allowWithDigest", true)

deny contains violation if {
	input.point in {"push", "pull"}
	input.artifact.tag in forbidden_tags
	violation := {
		"msg": sprintf("%s: the tag %q is not allowed, use an immutable version tag", [input.artifact.repository, input.artifact.tag]),
		"code": "TAG_FORBIDDEN",
		"details": {"tag": input.artifact.tag},
	}
}

# ---- admission: reading the image reference as written in the workload ----

image := input.admission.container.image

# "registry:5000/team/app:v1@sha256:…" → name "registry:5000/team/app:v1", digest "sha256:…"
name_part := split(image, "@")[0]

has_digest if contains(image, "@")

# The tag lives in the last path segment, so a registry port is never mistaken for a tag.
last_segment := segments[count(segments) - 1] if segments := split(name_part, "/")

tag := split(last_segment, ":")[1] if contains(last_segment, ":")

deny contains violation if {
	input.point == "admission"
	not tag
	not has_digest
	violation := {
		"msg": sprintf("container %q: image %q has neither a tag nor a digest, so it means :latest", [input.admission.container.name, image]),
		"code": "IMAGE_UNPINNED",
		"details": {"container": input.admission.container.name, "image": image},
	}
}

deny contains violation if {
	input.point == "admission"
	tag in forbidden_tags
	not digest_excuses
	violation := {
		"msg": sprintf("container %q: image %q uses the forbidden tag %q", [input.admission.container.name, image, tag]),
		"code": "TAG_FORBIDDEN",
		"details": {"container": input.admission.container.name, "image": image, "tag": tag},
	}
}

digest_excuses if {
	has_digest
	allow_with_digest
}
