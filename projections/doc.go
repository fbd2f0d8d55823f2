// Package projections holds Gateledger's read models, one file each: the audit trail
// (audit.go, and its row format in audit_row.go), resettlement plans, handovers, the
// caseload and its pages, and outcomes; and the whole-store verification of hash chains
// and audit rows (verify.go, historycheck.go), which reads the store page by page and
// holds no read transaction across the scan. All returns every projection for
// readmodel.Open.
//
// Each projection folds events from $all, fed by the runner in package
// projections/readmodel, into rows kept in the runner's bbolt file. Of ours it may import
// aggregates, eventlog, eventstore and projections/readmodel; it knows nothing of the
// transports that read it.
package projections
