package auth

import (
	"context"
	"fmt"
	"unicode"
	"unicode/utf8"

	"github.com/gateledger/gateledger/aggregates"
)

// Role is what a principal is, and so what it may do.
type Role string

// Roles.
const (
	// RolePrison: prison staff; the organisation is their prison's code.
	RolePrison Role = "prison"
	// RoleProvider: probation provider staff; the organisation is a CRC
	// (C01..C21), an NPS division (N01..N07) or an NPS region (NPS-A..NPS-L).
	RoleProvider Role = "provider"
	// RoleInspector: HM Inspectorate of Probation; reads everything, writes
	// nothing; no organisation.
	RoleInspector Role = "inspector"
	// RoleFeed: the HMPPS domain event feed; ingests only.
	RoleFeed Role = "feed"
	// RoleAdmin: operators; manage tokens, see no case.
	RoleAdmin Role = "admin"
)

// Roles lists every role, in a stable order.
func Roles() []Role {
	return []Role{RolePrison, RoleProvider, RoleInspector, RoleFeed, RoleAdmin}
}

// Valid reports whether r is one of the roles.
func (r Role) Valid() bool {
	switch r {
	case RolePrison, RoleProvider, RoleInspector, RoleFeed, RoleAdmin:
		return true
	}
	return false
}

// ParseRole reads a role name.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if !r.Valid() {
		return "", fmt.Errorf("%w: unknown role %q (want prison, provider, inspector, feed or admin)", ErrInvalidPrincipal, s)
	}
	return r, nil
}

// Principal is the caller of a request, as authenticated.
type Principal struct {
	// ID is stable and unique: "token:<id>" for built-in tokens,
	// "oidc:<subject>" for identity provider users. It is the userId of the
	// events the principal records.
	ID string
	// Name is for people to read (the token's name, the user's name).
	Name string
	Role Role
	// Org is the organisation code (aggregates.Org), empty for inspectors.
	Org string
}

// MaxNameLen bounds names of principals and tokens, in bytes.
const MaxNameLen = 200

// Validate checks the role and that the organisation has the kind the role
// needs: prison staff a prison code, providers a CRC or NPS code, inspectors
// none, feed and admin none or any known organisation. The error matches
// ErrInvalidPrincipal.
func (p Principal) Validate() error {
	if p.ID == "" {
		return fmt.Errorf("%w: no id", ErrInvalidPrincipal)
	}
	if err := validText("id", p.ID); err != nil {
		return err
	}
	if err := validText("name", p.Name); err != nil {
		return err
	}
	return ValidateRoleOrg(p.Role, p.Org)
}

// ValidateRoleOrg checks a role and organisation as Principal.Validate does.
func ValidateRoleOrg(role Role, org string) error {
	if !role.Valid() {
		return fmt.Errorf("%w: unknown role %q", ErrInvalidPrincipal, role)
	}
	o := aggregates.Org(org)
	switch role {
	case RolePrison:
		if o.Kind() != aggregates.OrgPrison {
			return fmt.Errorf("%w: a prison principal needs a prison code such as MDI, not %q", ErrInvalidPrincipal, org)
		}
	case RoleProvider:
		if !o.IsProvider() {
			return fmt.Errorf("%w: a provider principal needs a CRC (C01-C21), NPS division (N01-N07) or NPS region (NPS-A..NPS-L) code, not %q", ErrInvalidPrincipal, org)
		}
	case RoleInspector:
		if org != "" {
			return fmt.Errorf("%w: inspectors have no organisation (got %q)", ErrInvalidPrincipal, org)
		}
	case RoleFeed, RoleAdmin:
		if org != "" && !o.Valid() {
			return fmt.Errorf("%w: unknown organisation %q", ErrInvalidPrincipal, org)
		}
	}
	return nil
}

// validText refuses over-long values, invalid UTF-8 and control characters,
// which have no place in ids and names that end up in logs and events.
func validText(field, s string) error {
	if len(s) > MaxNameLen {
		return fmt.Errorf("%w: %s longer than %d bytes", ErrInvalidPrincipal, field, MaxNameLen)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: %s is not UTF-8", ErrInvalidPrincipal, field)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return fmt.Errorf("%w: %s contains a control character", ErrInvalidPrincipal, field)
		}
	}
	return nil
}

// String is "role:org/id" for logs.
func (p Principal) String() string {
	if p.Org == "" {
		return string(p.Role) + "/" + p.ID
	}
	return string(p.Role) + ":" + p.Org + "/" + p.ID
}

type principalKey struct{}

// WithPrincipal returns a context carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal WithPrincipal stored, and false if none.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}
