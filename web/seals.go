package web

import (
	"crypto/ed25519"
	"errors"
	"net/http"
	"time"

	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/ledger"
	"github.com/gateledger/gateledger/seal"
	"github.com/gateledger/gateledger/web/problem"
)

// sealAnswer is POST /v1/seals' answer: whether a seal was written, and the seal
// written or the latest one.
type sealAnswer struct {
	Written bool         `json:"written"`
	Skipped string       `json:"skipped,omitempty"`
	Seal    *seal.Signed `json:"seal,omitempty"`
}

// writeSeal seals the journeys' history now: admins only. A seal written by another
// instance at the same moment is not an error: the answer says so.
func (s *server) writeSeal(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if !auth.CanManageTokens(p) { // the admin role, validated
		return auth.ErrForbidden
	}
	if s.cfg.Seals == nil {
		return problem.New(problem.NotFound, "this ledger does not seal its history")
	}
	// The first seal of a large store reads all of it.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(30 * time.Minute))
	res, err := s.cfg.Seals.Seal(r.Context(), seal.Options{})
	if err != nil {
		return err
	}
	status := http.StatusOK
	if res.Written {
		status = http.StatusCreated
	}
	return writeJSON(w, status, sealAnswer{Written: res.Written, Skipped: res.Skipped, Seal: res.Seal})
}

// latestSeal is the latest seal's signed root (root.json): inspectors only.
func (s *server) latestSeal(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if !auth.CanReadAcrossOrganisations(p) {
		return auth.ErrForbidden
	}
	if s.cfg.Seals == nil {
		return problem.New(problem.NotFound, "this ledger does not seal its history")
	}
	chain, err := seal.ReadChain(r.Context(), s.cfg.Store.Client, s.sealKey())
	if err != nil {
		return err
	}
	if len(chain.Breaks) > 0 {
		return problem.New(problem.NotFound, "the seal chain does not verify (%s): run gateledger verify", chain.Breaks[0])
	}
	if chain.Latest == nil {
		return problem.New(problem.NotFound, "no seal has been written yet: an admin can write one with POST /v1/seals")
	}
	return writeJSON(w, http.StatusOK, chain.Latest.Signed)
}

// sealProof is the inclusion proof of the person's journey in the latest seal
// (proof.json): inspectors only, and recorded as a verification of the person.
func (s *server) sealProof(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	noms, err := nomsParam(r)
	if err != nil {
		return err
	}
	if !auth.CanReadAcrossOrganisations(p) {
		return auth.ErrForbidden
	}
	if s.cfg.Seals == nil {
		return problem.New(problem.NotFound, "this ledger does not seal its history")
	}
	proof, err := ledger.ReadOrganisation(r.Context(), s.cfg.Ledger, p, ledger.OrganisationRead{Allow: auth.CanReadAcrossOrganisations,
		Access: accessVerification, Subject: noms}, func() (seal.Proof, error) {
		_, proof, err := seal.Export(r.Context(), s.cfg.Store.Client, s.sealKey(), noms)
		if errors.Is(err, seal.ErrNotSealed) {
			return proof, problem.New(problem.NotFound, "%v", err)
		}
		return proof, err
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, proof)
}

func (s *server) sealKey() ed25519.PublicKey {
	return s.cfg.Seals.Key.Public().(ed25519.PublicKey)
}
