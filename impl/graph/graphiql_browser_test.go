//go:build browser

package graph_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/browsertest"
)

// TestGraphiQLInABrowser opens GET /graphql in headless Chromium that can reach 127.0.0.1 only: GraphiQL renders
// from the server's own assets (their integrity checked by the browser) and loads the schema by introspection.
// It saves a screenshot under artifacts/. Run with `make browser-test`.
func TestGraphiQLInABrowser(t *testing.T) {
	in := setup(t)
	ctx := browsertest.New(t)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(in.url+"/graphql"),
		chromedp.WaitVisible(chromedp.CSS(`.graphiql-container`)),
		// The documentation explorer's button is enabled once the schema has been introspected.
		chromedp.WaitVisible(chromedp.CSS(`button[aria-label="Show Documentation Explorer"]`)),
		chromedp.Click(chromedp.CSS(`button[aria-label="Show Documentation Explorer"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.graphiql-doc-explorer-content`)),
	))
	docs, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`.graphiql-doc-explorer-content`)))
	require.NoError(t, err)
	require.Contains(t, docs, "Query", "the schema came from the server")
	screenshot, err := chromedp.Run(ctx, chromedp.FullScreenshot(80))
	require.NoError(t, err)
	dir := filepath.Join("..", "..", "artifacts")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "graphiql.png"), screenshot, 0o644))
}
