# Only artifacts carrying a verified keyless (Sigstore/Fulcio) signature whose certificate
# identity and OIDC issuer match one of the configured identities.
# Parameters: data.wharf.params.keyless_identity (see README.md).
package wharf.policies.keyless_identity

default params := {}

params := data.wharf.params.keyless_identity

# Fail closed: no identity configured means no keyless signature can be trusted.
identities := object.get(params, "identities", [])

# Same convention as Wharf's trust configuration: /…/ is a regular expression, else exact.
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

# A keyless signature is the only kind that carries the certificate's OIDC issuer.
keyless(sig) if {
	sig.type in {"cosign", "sigstore-bundle"}
	is_string(sig.signer)
	is_string(sig.issuer)
}

trusted(sig) if {
	sig.verified == true
	keyless(sig)
	some identity in identities
	matches(sig.signer, identity.subject)
	matches(sig.issuer, identity.issuer)
}

# trust is null or absent when nothing is known about the digest.
trust := input.trust if is_object(input.trust)

default trust := {}

signatures := object.get(trust, "signatures", [])

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

any_trusted if {
	some sig in signatures
	trusted(sig)
}

deny contains violation if {
	applies
	count(identities) == 0
	violation := {
		"msg": "keyless-identity: no trusted identity is configured (data.wharf.params.keyless_identity.identities)",
		"code": "KEYLESS_IDENTITY_NOT_CONFIGURED",
		"details": {},
	}
}

deny contains violation if {
	applies
	count(identities) > 0
	not any_trusted
	violation := {
		"msg": sprintf("%s@%s: no verified keyless signature from a trusted identity", [
			object.get(input.artifact, "repository", "?"),
			object.get(input.artifact, "digest", "?"),
		]),
		"code": "KEYLESS_IDENTITY_UNTRUSTED",
		"details": {
			"identities": identities,
			"seen": [{"identity": s.signer, "issuer": s.issuer, "verified": object.get(s, "verified", false)} |
				some s in signatures
				keyless(s)
			],
		},
	}
}
