package wharf.policies.keyless_identity_test

import data.wharf.policies.keyless_identity

github := "https://token.actions.githubusercontent.com"

workflow := "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main"

params := {"identities": [
	{"subject": "/^https://github\\.com/acme/[^/]+/\\.github/workflows/release\\.yml@refs/(heads/main|tags/v.*)$/", "issuer": github},
	{"subject": "security@acme.example", "issuer": "https://accounts.google.com"},
]}

deny_for(signatures) := violations if {
	violations := keyless_identity.deny with input as {
		"point": "pull",
		"artifact": {"repository": "team-a/app", "digest": "sha256:2222"},
		"trust": {"signatures": signatures},
	}
		with data.wharf.params.keyless_identity as params
}

test_workflow_identity_allowed if {
	count(deny_for([{"type": "sigstore-bundle", "signer": workflow, "issuer": github, "verified": true}])) == 0
}

test_tag_ref_allowed if {
	signer := "https://github.com/acme/lib/.github/workflows/release.yml@refs/tags/v1.2.3"
	count(deny_for([{"type": "cosign", "signer": signer, "issuer": github, "verified": true}])) == 0
}

test_email_identity_exact_match if {
	count(deny_for([{"type": "cosign", "signer": "security@acme.example", "issuer": "https://accounts.google.com", "verified": true}])) == 0
}

test_email_identity_with_wrong_issuer_denied if {
	count(deny_for([{"type": "cosign", "signer": "security@acme.example", "issuer": github, "verified": true}])) == 1
}

test_other_org_denied if {
	signer := "https://github.com/evil/app/.github/workflows/release.yml@refs/heads/main"
	some v in deny_for([{"type": "sigstore-bundle", "signer": signer, "issuer": github, "verified": true}])
	v.code == "KEYLESS_IDENTITY_UNTRUSTED"
	v.details.seen[0].identity == signer
}

test_feature_branch_denied if {
	signer := "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/feature"
	count(deny_for([{"type": "sigstore-bundle", "signer": signer, "issuer": github, "verified": true}])) == 1
}

test_unverified_denied if {
	count(deny_for([{"type": "sigstore-bundle", "signer": workflow, "issuer": github, "verified": false}])) == 1
}

test_key_based_signature_is_not_keyless if {
	count(deny_for([{"type": "cosign", "signer": "key:release (sha256:abcd)", "verified": true}])) == 1
}

test_notation_is_not_keyless if {
	count(deny_for([{"type": "notary-jws", "signer": workflow, "issuer": github, "verified": true}])) == 1
}

test_unsigned_denied_with_message if {
	some v in deny_for([])
	v.msg == "team-a/app@sha256:2222: no verified keyless signature from a trusted identity"
	v.details.seen == []
}

test_exact_pattern_is_not_a_substring_match if {
	count(deny_for([{"type": "cosign", "signer": "x-security@acme.example", "issuer": "https://accounts.google.com", "verified": true}])) == 1
}

test_no_identities_fails_closed if {
	violations := keyless_identity.deny with input as {"point": "push", "artifact": {"repository": "a/b", "digest": "sha256:3"}, "trust": {"signatures": []}}
	[v.code | some v in violations] == ["KEYLESS_IDENTITY_NOT_CONFIGURED"]
}

test_admission_image_of_this_registry_judged if {
	inp := {"point": "admission", "artifact": {"repository": "a/b", "digest": "sha256:3"}, "trust": {"signatures": []}}
	count(keyless_identity.deny) == 1 with input as inp with data.wharf.params.keyless_identity as params
}

test_exact_pattern_may_end_with_a_slash if {
	p := {"identities": [{"subject": "ci@acme.example", "issuer": "https://issuer.acme.example/"}]}
	sig := {"type": "cosign", "signer": "ci@acme.example", "issuer": "https://issuer.acme.example/", "verified": true}
	inp := {"point": "pull", "artifact": {"repository": "a/b", "digest": "sha256:3"}, "trust": {"signatures": [sig]}}
	count(keyless_identity.deny) == 0 with input as inp with data.wharf.params.keyless_identity as p
}

test_admission_foreign_image_not_judged if {
	count(keyless_identity.deny) == 0 with input as {"point": "admission", "artifact": null}
		with data.wharf.params.keyless_identity as params
}

test_null_trust_denied if {
	count(keyless_identity.deny) == 1 with input as {"point": "pull", "artifact": {"repository": "a/b", "digest": "sha256:2"}, "trust": null}
		with data.wharf.params.keyless_identity as params
}
