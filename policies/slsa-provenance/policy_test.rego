package wharf.policies.slsa_provenance_test

import data.wharf.policies.slsa_provenance

gha := "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml@refs/tags/v2.0.0"

params := {
	"builders": ["/^https://github\\.com/slsa-framework/slsa-github-generator/.*@refs/tags/v[0-9.]+$/", "https://ci.acme.example/builder"],
	"sourceRepositories": ["/^(git\\+)?https://github\\.com/acme/.*$/"],
}

provenance(builder, source, verified) := {
	"predicateType": "https://slsa.dev/provenance/v1",
	"builder": builder,
	"sourceRepository": source,
	"verified": verified,
}

deny_with(attestations, p) := violations if {
	violations := slsa_provenance.deny with input as {
		"point": "push",
		"artifact": {"repository": "team-a/app", "digest": "sha256:3333"},
		"trust": {"signatures": [], "attestations": attestations},
	}
		with data.wharf.params.slsa_provenance as p
}

deny_for(attestations) := deny_with(attestations, params)

test_trusted_builder_and_source_allowed if {
	count(deny_for([provenance(gha, "git+https://github.com/acme/app", true)])) == 0
}

test_exact_builder_allowed if {
	count(deny_for([provenance("https://ci.acme.example/builder", "https://github.com/acme/lib", true)])) == 0
}

test_v02_predicate_allowed if {
	att := object.union(provenance(gha, "https://github.com/acme/app", true), {"predicateType": "https://slsa.dev/provenance/v0.2"})
	count(deny_for([att])) == 0
}

test_untrusted_builder_denied if {
	some v in deny_for([provenance("https://evil.example/builder", "https://github.com/acme/app", true)])
	v.code == "SLSA_PROVENANCE_MISSING"
	contains(v.msg, "no SLSA provenance from a trusted builder")
	v.details.provenance[0].builder == "https://evil.example/builder"
}

test_builder_on_a_branch_denied if {
	builder := "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml@refs/heads/main"
	count(deny_for([provenance(builder, "https://github.com/acme/app", true)])) == 1
}

test_unverified_provenance_denied if {
	some v in deny_for([provenance(gha, "https://github.com/acme/app", false)])
	contains(v.msg, "is not verified")
}

test_wrong_source_denied if {
	some v in deny_for([provenance(gha, "https://github.com/other/app", true)])
	contains(v.msg, "source repository that is not allowed")
}

test_missing_source_denied_when_sources_configured if {
	att := {"predicateType": "https://slsa.dev/provenance/v1", "builder": gha, "verified": true}
	count(deny_for([att])) == 1
}

test_any_source_when_not_configured if {
	count(deny_with([provenance(gha, "https://gitlab.com/x/y", true)], {"builders": [gha]})) == 0
}

test_other_predicates_ignored if {
	att := {"predicateType": "https://spdx.dev/Document", "builder": gha, "sourceRepository": "https://github.com/acme/app", "verified": true}
	some v in deny_for([att])
	v.msg == "team-a/app@sha256:3333: no SLSA provenance attestation"
	v.details.provenance == []
}

test_one_good_attestation_is_enough if {
	count(deny_for([
		provenance("https://evil.example/builder", "https://github.com/acme/app", true),
		provenance(gha, "https://github.com/acme/app", true),
	])) == 0
}

test_no_builders_fails_closed if {
	violations := deny_with([provenance(gha, "https://github.com/acme/app", true)], {})
	[v.code | some v in violations] == ["SLSA_NOT_CONFIGURED"]
}

test_admission_image_of_this_registry_judged if {
	inp := {"point": "admission", "artifact": {"repository": "a/b", "digest": "sha256:3"}, "trust": {"attestations": []}}
	count(slsa_provenance.deny) == 1 with input as inp with data.wharf.params.slsa_provenance as params
}

test_exact_builder_may_end_with_a_slash if {
	att := provenance("https://ci.acme.example/", "https://github.com/acme/app", true)
	count(deny_with([att], {"builders": ["https://ci.acme.example/"]})) == 0
}

test_admission_foreign_image_not_judged if {
	count(slsa_provenance.deny) == 0 with input as {"point": "admission", "artifact": null}
		with data.wharf.params.slsa_provenance as params
}

test_null_trust_denied if {
	some v in slsa_provenance.deny with input as {"point": "pull", "artifact": {"repository": "a/b", "digest": "sha256:2"}, "trust": null}
		with data.wharf.params.slsa_provenance as params
	v.msg == "a/b@sha256:2: no SLSA provenance attestation"
}
