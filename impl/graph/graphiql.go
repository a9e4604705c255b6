package graph

import (
	"crypto/sha256"
	"encoding/base64"
	"io/fs"
	"net/http"
	"sync"

	"github.com/99designs/gqlgen/graphql/playground"

	"github.com/junction-dev/junction/gen/graphiql"
)

// AssetsPath is where GraphiQL's scripts and styles are served. They come from the graphiql, react and react-dom
// npm packages, copied into gen/graphiql by make generate and embedded in the binary: GraphiQL works offline,
// with no CDN, like Swagger UI.
const AssetsPath = Path + "/assets/"

// graphiQL returns GraphiQL's page, loading its assets from AssetsPath with their subresource integrity, and the
// handler of those assets. The page is built on its first request: hashing the 1.6 MB of assets at start-up would
// make them resident in every process, most of which never serve GraphiQL.
func graphiQL() (page, assets http.Handler) {
	files, err := fs.Sub(graphiql.FS, "dist")
	if err != nil {
		panic(err) // the embedded directory is generated with this package: it is there
	}
	build := sync.OnceValue(func() http.Handler { return graphiQLPage(files) })
	page = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { build().ServeHTTP(w, r) })
	return page, http.StripPrefix(AssetsPath, http.FileServer(http.FS(files)))
}

func graphiQLPage(files fs.FS) http.Handler {
	sri := func(name string) string {
		b, err := fs.ReadFile(files, name)
		if err != nil {
			panic(err)
		}
		sum := sha256.Sum256(b)
		return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
	}
	return playground.Handler("Junction GraphQL", Path,
		playground.WithGraphiqlVersion(AssetsPath+"graphiql.min.js", AssetsPath+"graphiql.min.css",
			sri("graphiql.min.js"), sri("graphiql.min.css")),
		playground.WithGraphiqlReactVersion(AssetsPath+"react.production.min.js", AssetsPath+"react-dom.production.min.js",
			sri("react.production.min.js"), sri("react-dom.production.min.js")),
	)
}
