//go:build browser

package httpapi_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/browsertest"
)

// TestSwaggerUIInABrowser opens /docs in headless Chromium as a person would: the operations render, and "Try it
// out" on GET /api/users with a token gets a 200 from the live server. It saves a screenshot under artifacts/.
// Run with `make browser-test`, which installs Debian's chromium when it is missing.
func TestSwaggerUIInABrowser(t *testing.T) {
	b := setup(t)
	_, token := b.signUp("Ada", "ada@example.com")

	ctx := browsertest.New(t)

	op := `#operations-users-listUsers`
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(b.url+"/docs"),
		chromedp.WaitVisible(chromedp.CSS(`.opblock`)),
	))
	operations, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('.opblock').length`))
	require.NoError(t, err)
	require.GreaterOrEqual(t, operations, 20, "every operation of openapi.yaml renders")

	// The token goes where the Authorize dialog would put it; then Try it out, Execute, as a person clicks.
	_, err = chromedp.Run(ctx, chromedp.Evaluate[any](`window.ui.preauthorizeApiKey("bearerAuth", "`+token+`"), true`))
	require.NoError(t, err)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(op+` .opblock-summary`)),
		chromedp.WaitVisible(chromedp.CSS(op+` .try-out__btn`)),
		chromedp.Click(chromedp.CSS(op+` .try-out__btn`)),
		chromedp.WaitVisible(chromedp.CSS(op+` .execute`)),
		chromedp.Click(chromedp.CSS(op+` .execute`)),
		chromedp.WaitVisible(chromedp.CSS(op+` .live-responses-table tbody .response-col_status`)),
	))
	status, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(op+` .live-responses-table tbody .response-col_status`)))
	require.NoError(t, err)
	require.Equal(t, "200", strings.TrimSpace(status))
	screenshot, err := chromedp.Run(ctx, chromedp.FullScreenshot(80))
	require.NoError(t, err)

	dir := filepath.Join("..", "..", "artifacts")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "swagger-ui.png"), screenshot, 0o644))
}
