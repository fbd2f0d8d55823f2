package pages

import (
	"sort"
	"strings"
)

// What the external tests (package pages_test, which start the whole ledger
// through package instance) need of the package's insides.

// RandomToken is randomToken, for the test identity provider's codes.
var RandomToken = randomToken

// AssetsBuilt is assetsBuilt: the browser tests need the front-end assets.
var AssetsBuilt = assetsBuilt

// OIDCCookie is the cookie that carries an identity provider sign-in's state.
const OIDCCookie = oidcCookie

// TemplateNames is the name of every page template.
func TemplateNames() ([]string, error) {
	t, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	var names []string
	for name := range t.byName {
		names = append(names, name)
	}
	sort.Strings(names)
	return names, nil
}

// RenderHome renders the home template in the layout, as a role with no main
// page would see it.
func RenderHome() (string, error) {
	t, err := parseTemplates()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	err = t.byName["home"].ExecuteTemplate(&b, "layout.html", page{Title: "Gateledger", Template: "home"})
	return b.String(), err
}
