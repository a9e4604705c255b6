// Command example shows Junction's Go SDK (the client generated into gen/api) from an API consumer's side: it
// signs up and in, writes a post, pages through posts, and handles a typed 4xx (409). Run it against a live server:
//
//	JUNCTION_URL=http://localhost:8080 go run ./examples/go
package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/junction-dev/junction/gen/api"
)

func main() {
	if err := run(context.Background(), envOr("JUNCTION_URL", "http://localhost:8080")); err != nil {
		fmt.Fprintln(os.Stderr, "example:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, baseURL string) error {
	var token string
	client, err := api.NewClientWithResponses(baseURL, api.WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		return nil
	}))
	if err != nil {
		return err
	}

	email := fmt.Sprintf("go-sdk-%d@example.com", time.Now().UnixNano())
	password := "correct horse battery"
	signUp, err := client.CreateUserWithResponse(ctx, nil, api.CreateUserRequest{Name: "Go SDK", Email: api.Email(email), Password: &password})
	if err != nil {
		return err
	}
	if signUp.JSON201 == nil {
		return fmt.Errorf("sign up: %s", signUp.Status())
	}
	login, err := client.CreateTokenWithResponse(ctx, api.TokenRequest{Email: email, Password: &password})
	if err != nil {
		return err
	}
	if login.JSON200 == nil {
		return fmt.Errorf("sign in: %s", login.Status())
	}
	token = login.JSON200.AccessToken
	fmt.Printf("signed in as %s (token valid %ds)\n", signUp.JSON201.Data.Email, login.JSON200.ExpiresIn)

	published := true
	for i := range 3 {
		created, err := client.CreatePostWithResponse(ctx, nil, api.CreatePostRequest{
			Title: fmt.Sprintf("Post %d from the Go SDK", i), Content: "Typed end to end.", Published: &published,
		})
		if err != nil {
			return err
		}
		if created.JSON201 == nil {
			return fmt.Errorf("create post: %s", created.Status())
		}
	}

	// Page through this author's posts, two at a time, until there is no next page.
	me := signUp.JSON201.Data.Id
	limit := int32(2)
	seen := 0
	for page := int32(1); ; page++ {
		list, err := client.ListUserPostsWithResponse(ctx, me, &api.ListUserPostsParams{Page: &page, Limit: &limit})
		if err != nil {
			return err
		}
		if list.JSON200 == nil {
			return fmt.Errorf("list posts: %s", list.Status())
		}
		for _, p := range list.JSON200.Data {
			fmt.Printf("page %d: %s\n", page, p.Title)
			seen++
		}
		if list.JSON200.Links.Next == nil {
			break
		}
	}
	if seen != 3 {
		return fmt.Errorf("paged through %d posts, want 3", seen)
	}

	// A 4xx is typed: the error envelope, with the offending fields. (The request itself is valid, so that a
	// validating proxy such as Prism, which make e2e puts in front of the server, lets it through.)
	again, err := client.CreateUserWithResponse(ctx, nil, api.CreateUserRequest{Name: "Go SDK", Email: api.Email(email), Password: &password})
	if err != nil {
		return err
	}
	if again.JSON409 == nil {
		return errors.New("a second account with the same email was accepted")
	}
	fmt.Printf("refused as expected: %d %s: %v\n", again.JSON409.StatusCode, again.JSON409.Error, *again.JSON409.Errors)
	return nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
