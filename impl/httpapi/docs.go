package httpapi

import (
	"fmt"
	"io/fs"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/junction-dev/junction/gen/swaggerui"
)

// docsPage is Swagger UI's page, pointed at our own spec. The assets come from the swagger-ui-dist npm package,
// copied into gen/swaggerui by make generate and embedded in the binary: the docs work offline, with no CDN.
const docsPage = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Junction API</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
  <link rel="stylesheet" href="/docs/index.css">
  <link rel="icon" type="image/png" href="/docs/favicon-32x32.png" sizes="32x32">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/swagger-ui-standalone-preset.js"></script>
  <script src="/docs/initializer.js"></script>
</body>
</html>
`

const docsInitializer = `window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.yaml",
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: "StandaloneLayout"
  });
};
`

func mountDocs(r chi.Router) error {
	assets, err := fs.Sub(swaggerui.FS, "dist")
	if err != nil {
		return fmt.Errorf("swagger ui assets: %w", err)
	}
	files := http.StripPrefix("/docs/", http.FileServer(http.FS(assets)))
	r.Get("/docs", serveBytes("text/html; charset=utf-8", []byte(docsPage)))
	r.Get("/docs/", http.RedirectHandler("/docs", http.StatusMovedPermanently).ServeHTTP)
	r.Get("/docs/initializer.js", serveBytes("text/javascript; charset=utf-8", []byte(docsInitializer)))
	r.Get("/docs/*", files.ServeHTTP)
	return nil
}
