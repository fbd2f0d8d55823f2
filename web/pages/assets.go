package pages

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

// assetFiles are the pages' static files, served under /assets/:
//
//	assets/dist  govuk-frontend and @ministryofjustice/frontend's precompiled
//	             CSS, JavaScript, fonts and images, copied by `make assets`
//	             from web/node_modules (not committed; a README keeps the
//	             directory so that this embeds before npm has run)
//	assets/app   Gateledger's own scripts and styles
//
// The precompiled CSS refers to /assets/fonts/... and /assets/images/...,
// so dist is served at /assets/ itself.
//
//go:embed all:assets/dist assets/app
var assetFiles embed.FS

// assetsBuilt reports whether `make assets` has filled assets/dist.
func assetsBuilt() bool {
	_, err := fs.Stat(assetFiles, "assets/dist/govuk-frontend.min.css")
	return err == nil
}

// assetHandler serves /assets/app/... from assets/app and every other
// /assets/... from assets/dist. Assets change only with the binary.
func assetHandler() http.Handler {
	dist, _ := fs.Sub(assetFiles, "assets/dist")
	app, _ := fs.Sub(assetFiles, "assets/app")
	distH := http.StripPrefix("/assets/", http.FileServerFS(dist))
	appH := http.StripPrefix("/assets/app/", http.FileServerFS(app))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if strings.HasSuffix(p, "/") || strings.HasSuffix(p, "/README") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		if strings.HasPrefix(p, "/assets/app/") {
			appH.ServeHTTP(w, r)
			return
		}
		distH.ServeHTTP(w, r)
	})
}
