package graph

import (
	"crypto/sha256"
	"encoding/base64"
	"io/fs"
	"net/http"

	"github.com/99designs/gqlgen/graphql/playground"

	"github.com/junction-dev/junction/gen/graphiql"
)

// AssetsPath is where GraphiQL's scripts and styles are served. They come from the graphiql, react and react-dom
// npm packages, copied into gen/graphiql by make generate and embedded in the binary: GraphiQL works offline,
// with no CDN, like Swagger UI.
const AssetsPath = Path + "/assets/"

// graphiQL returns GraphiQL's page, loading its assets from AssetsPath with their subresource integrity, and the
// handler of those assets.
func graphiQL() (page, assets http.Handler) {
	files, err := fs.Sub(graphiql.FS, "dist")
	if err != nil {
		panic(err) // the embedded directory is generated with this package: it is there
	}
	sri := func(name string) string {
		b, err := fs.ReadFile(files, name)
		if err != nil {
			panic(err)
		}
		sum := sha256.Sum256(b)
		return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
	}
	page = playground.Handler("Junction GraphQL", Path,
		playground.WithGraphiqlVersion(AssetsPath+"graphiql.min.js", AssetsPath+"graphiql.min.css",
			sri("graphiql.min.js"), sri("graphiql.min.css")),
		playground.WithGraphiqlReactVersion(AssetsPath+"react.production.min.js", AssetsPath+"react-dom.production.min.js",
			sri("react.production.min.js"), sri("react-dom.production.min.js")),
	)
	return page, http.StripPrefix(AssetsPath, http.FileServer(http.FS(files)))
}
