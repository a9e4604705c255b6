//go:build browser

package httpapi_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// TestSwaggerUIInABrowser opens /docs in headless Chromium as a person would: the operations render, and "Try it
// out" on GET /api/users with a token gets a 200 from the live server. It saves a screenshot under artifacts/.
// Run with `make browser-test`, which installs Debian's chromium when it is missing.
func TestSwaggerUIInABrowser(t *testing.T) {
	b := setup(t)
	_, token := b.signUp("Ada", "ada@example.com")

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 2000),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	defer cancelTimeout()

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

func chromiumPath(t *testing.T) string {
	for _, p := range []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p != "" {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	t.Fatal("no chromium: run `make browser-test`, which installs it")
	return ""
}
