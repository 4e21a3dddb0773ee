# Gatekeeper-style admission checks for each container image of a Kubernetes workload:
# images only from allowed registries/repository prefixes, no `latest` (or implicit latest),
# and every container declares resource limits.
# Parameters: data.wharf.params.gatekeeper_admission (see README.md).
package wharf.policies.gatekeeper_admission

default params := {}

params := data.wharf.params.gatekeeper_admission

# Empty: only images Wharf itself resolved (input.artifact is null for other registries).
allowed_repos := object.get(params, "allowedRepos", [])

required_limits := object.get(params, "requiredLimits", ["cpu", "memory"])

# Images exempt from every check; a trailing "*" makes a prefix match, as in Gatekeeper.
exempt_images := object.get(params, "exemptImages", [])

at_admission if input.point == "admission"

container := input.admission.container

image := container.image

exempt if {
	some pattern in exempt_images
	endswith(pattern, "*")
	startswith(image, trim_suffix(pattern, "*"))
}

exempt if image in exempt_images

judged if {
	at_admission
	not exempt
}

# ---- allowed registries ----

repo_allowed if {
	some prefix in allowed_repos
	startswith(image, prefix)
}

deny contains violation if {
	judged
	count(allowed_repos) > 0
	not repo_allowed
	violation := {
		"msg": sprintf("container %q: image %q is not from an allowed registry or repository (%s)", [container.name, image, concat(", ", allowed_repos)]),
		"code": "REPOSITORY_NOT_ALLOWED",
		"details": {"container": container.name, "image": image, "allowedRepos": allowed_repos},
	}
}

deny contains violation if {
	judged
	count(allowed_repos) == 0
	input.artifact == null
	violation := {
		"msg": sprintf("container %q: image %q is not served by this registry", [container.name, image]),
		"code": "REPOSITORY_NOT_ALLOWED",
		"details": {"container": container.name, "image": image},
	}
}

# ---- no latest ----

name_part := split(image, "@")[0]

has_digest if contains(image, "@")

last_segment := segments[count(segments) - 1] if segments := split(name_part, "/")

tag := split(last_segment, ":")[1] if contains(last_segment, ":")

deny contains violation if {
	judged
	not has_digest
	not tag
	violation := {
		"msg": sprintf("container %q: image %q has no tag or digest and so means :latest", [container.name, image]),
		"code": "IMAGE_LATEST",
		"details": {"container": container.name, "image": image},
	}
}

deny contains violation if {
	judged
	tag == "latest"
	not has_digest
	violation := {
		"msg": sprintf("container %q: image %q uses the tag latest", [container.name, image]),
		"code": "IMAGE_LATEST",
		"details": {"container": container.name, "image": image},
	}
}

# ---- resource limits ----

reviewed := input.admission.object

# The request's kind is authoritative; objects in reviews do not always repeat it.
workload_kind := object.get(object.get(input.admission, "kind", {}), "kind", object.get(reviewed, "kind", ""))

# The pod spec of a Pod, of a workload's pod template, or of a CronJob's job template.
pod_spec := reviewed.spec if workload_kind == "Pod"

pod_spec := reviewed.spec.template.spec if workload_kind in {"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "ReplicationController"}

pod_spec := reviewed.spec.jobTemplate.spec.template.spec if workload_kind == "CronJob"

list_name := {"container": "containers", "initContainer": "initContainers"}[container.type]

declared := [c |
	some c in object.get(pod_spec, list_name, [])
	c.name == container.name
]

missing_limits contains resource if {
	# Ephemeral (debug) containers cannot declare resources at all, so they are not judged.
	list_name
	some resource in required_limits
	some c in declared
	not c.resources.limits[resource]
}

deny contains violation if {
	judged
	count(missing_limits) > 0
	violation := {
		"msg": sprintf("container %q: no resource limit for %s", [container.name, concat(", ", sort(missing_limits))]),
		"code": "LIMITS_MISSING",
		"details": {"container": container.name, "missing": missing_limits},
	}
}
