package wharf.policies.no_critical_vulns_test

import data.wharf.policies.no_critical_vulns

finding(id, severity, published) := {"id": id, "severity": severity, "package": "pkg:npm/x@1.0.0", "published": published, "fixed": "1.0.1"}

scan(findings) := {
	"point": "push",
	"now": "2026-11-23T00:00:00Z",
	"artifact": {"repository": "team-a/app", "digest": "sha256:4444"},
	"trust": {"signatures": [], "attestations": [], "sbom": null, "vulnerabilities": {"counts": {}, "findings": findings}},
}

deny_with(findings, p) := violations if {
	violations := no_critical_vulns.deny with input as scan(findings) with data.wharf.params.no_critical_vulns as p
}

test_clean_scan_allowed if {
	count(no_critical_vulns.deny) == 0 with input as scan([])
}

test_old_critical_denied_by_default if {
	some v in no_critical_vulns.deny with input as scan([finding("CVE-2026-1", "critical", "2026-01-01T00:00:00Z")])
	v.code == "VULNERABILITY_OVERDUE"
	v.details.id == "CVE-2026-1"
	v.details.fixed == "1.0.1"
	contains(v.msg, "critical vulnerability CVE-2026-1 in pkg:npm/x@1.0.0")
}

test_high_is_not_blocked_by_default if {
	count(no_critical_vulns.deny) == 0 with input as scan([finding("CVE-2026-2", "high", "2026-01-01T00:00:00Z")])
}

test_severity_is_case_insensitive if {
	some v in no_critical_vulns.deny with input as scan([finding("CVE-2026-3", "CRITICAL", "2026-01-01T00:00:00Z")])
	v.details.severity == "critical"
}

test_admission_image_of_this_registry_judged if {
	inp := object.union(scan([finding("Z", "critical", "2020-01-01T00:00:00Z")]), {"point": "admission"})
	count(no_critical_vulns.deny) == 1 with input as inp
}

test_recent_critical_within_grace_allowed if {
	count(deny_with([finding("CVE-2026-4", "critical", "2026-11-20T00:00:00Z")], {"graceDays": 7})) == 0
}

test_critical_just_past_grace_denied if {
	count(deny_with([finding("CVE-2026-5", "critical", "2026-11-15T23:59:59Z")], {"graceDays": 7})) == 1
}

test_exactly_at_grace_allowed if {
	count(deny_with([finding("CVE-2026-6", "critical", "2026-11-16T00:00:00Z")], {"graceDays": 7})) == 0
}

test_configured_severities if {
	violations := deny_with(
		[finding("A", "high", "2026-01-01T00:00:00Z"), finding("B", "medium", "2026-01-01T00:00:00Z"), finding("C", "critical", "2026-01-01T00:00:00Z")],
		{"severities": ["High", "critical"]},
	)
	{v.details.id | some v in violations} == {"A", "C"}
}

test_ignored_id_allowed if {
	count(deny_with([finding("CVE-2026-7", "critical", "2026-01-01T00:00:00Z")], {"ignore": ["CVE-2026-7"]})) == 0
}

test_missing_date_fails_closed if {
	count(deny_with([{"id": "X", "severity": "critical"}], {"graceDays": 30})) == 1
}

test_garbage_date_fails_closed if {
	count(deny_with([finding("Y", "critical", "yesterday")], {"graceDays": 30})) == 1
}

test_one_violation_per_finding if {
	count(no_critical_vulns.deny) == 2 with input as scan([
		finding("CVE-1", "critical", "2026-01-01T00:00:00Z"),
		finding("CVE-2", "critical", "2025-01-01T00:00:00Z"),
	])
}

test_no_scan_allowed_unless_required if {
	inp := object.union(scan([]), {"trust": {"vulnerabilities": null}})
	count(no_critical_vulns.deny) == 0 with input as inp
	some v in no_critical_vulns.deny with input as inp with data.wharf.params.no_critical_vulns as {"requireScan": true}
	v.code == "VULNERABILITY_SCAN_MISSING"
}

test_admission_foreign_image_not_judged if {
	count(no_critical_vulns.deny) == 0 with input as {"point": "admission", "artifact": null, "trust": {"vulnerabilities": {"findings": [finding("Z", "critical", "2020-01-01T00:00:00Z")]}}}
}

test_garbage_now_falls_back_to_the_clock if {
	# A zero clock would make every finding brand new and let it through.
	inp := object.union(scan([finding("CVE-1", "critical", "2020-01-01T00:00:00Z")]), {"now": "soon"})
	count(no_critical_vulns.deny) == 1 with input as inp
}

test_supply_chain_summary_worst_findings if {
	# The trust document's summary lists the worst findings without publication dates: fail closed.
	vulns := {"databaseRecords": 100, "total": 2, "counts": {"critical": 1, "high": 1}, "worst": [
		{"id": "GHSA-1", "severity": "critical", "purl": "pkg:npm/a@1"},
		{"id": "GHSA-2", "severity": "high", "purl": "pkg:npm/b@1"},
	]}
	inp := json.patch(scan([]), [{"op": "replace", "path": "/trust/vulnerabilities", "value": vulns}])
	violations := no_critical_vulns.deny with input as inp with data.wharf.params.no_critical_vulns as {"graceDays": 30}
	[v.details.package | some v in violations] == ["pkg:npm/a@1"]
}

test_summary_without_database_counts_as_unscanned if {
	vulns := {"databaseRecords": 0, "total": 0, "counts": {}, "worst": []}
	inp := object.union(scan([]), {"trust": {"vulnerabilities": vulns}})
	some v in no_critical_vulns.deny with input as inp with data.wharf.params.no_critical_vulns as {"requireScan": true}
	v.code == "VULNERABILITY_SCAN_MISSING"
}

test_null_trust_is_unscanned if {
	inp := {"point": "pull", "now": "2026-11-23T00:00:00Z", "artifact": {"repository": "a/b"}, "trust": null}
	count(no_critical_vulns.deny) == 0 with input as inp
	count(no_critical_vulns.deny) == 1 with input as inp with data.wharf.params.no_critical_vulns as {"requireScan": true}
}

test_finding_without_id_is_counted if {
	# An exception lists ids: a finding without one cannot be excepted, so it stays counted.
	inp := scan([object.remove(finding("CVE-1", "critical", "2020-01-01T00:00:00Z"), ["id"])])
	violations := no_critical_vulns.deny with input as inp with data.wharf.params.no_critical_vulns as {"ignore": ["CVE-2"]}
	[v.details.id | some v in violations] == ["(without an id)"]
}
