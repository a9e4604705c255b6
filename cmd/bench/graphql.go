package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// The shape the GraphQL scenario measures its query at: the 20 newest users, their posts visible to the caller
// and those posts' comments, each with its author. The seed (a fixed random sequence) gives them 71 posts and 286
// comments, 17.8 KB per answer; far fewer means the query reads other users than the seeded ones (newer sign-ups,
// whose lists are empty), a much lighter workload, as the last full run before this check measured.
const (
	shapeUsers       = 20
	shapeMinPosts    = 60
	shapeMinComments = 250
)

// graphqlShape runs the GraphQL scenario's request once and checks its answer has the shape the scenario is
// meant to measure: no errors, shapeUsers users, at least shapeMinPosts posts and shapeMinComments comments,
// every comment with its author. Its note gives the counts and the answer's size.
func graphqlShape(base string, h http.Header, body []byte) (string, error) {
	req, err := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header = h.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	s, err := countShape(raw)
	if err != nil {
		return "", fmt.Errorf("%s: %w (%.300s)", resp.Status, err, raw)
	}
	note := fmt.Sprintf("%d users, %d posts, %d comments, %.1f KB per answer", s.users, s.posts, s.comments, float64(len(raw))/1000)
	if s.users != shapeUsers || s.posts < shapeMinPosts || s.comments < shapeMinComments || s.authors != s.comments {
		return "", fmt.Errorf("not the shape to measure (want %d users, %d+ posts, %d+ comments, each with its author): %s, %d authors",
			shapeUsers, shapeMinPosts, shapeMinComments, note, s.authors)
	}
	return note, nil
}

type shape struct{ users, posts, comments, authors int }

// countShape counts the users, posts, comments and comment authors of an answer to
// { users { edges { node { posts { comments { author { id } } } } } } }.
func countShape(raw []byte) (shape, error) {
	var answer struct {
		Data *struct {
			Users struct {
				Edges []struct {
					Node struct {
						Posts []struct {
							Comments []struct {
								Author *struct {
									ID string `json:"id"`
								} `json:"author"`
							} `json:"comments"`
						} `json:"posts"`
					} `json:"node"`
				} `json:"edges"`
			} `json:"users"`
		} `json:"data"`
		Errors []json.RawMessage `json:"errors"`
	}
	if err := json.Unmarshal(raw, &answer); err != nil {
		return shape{}, fmt.Errorf("the answer is not JSON: %w", err)
	}
	if len(answer.Errors) > 0 || answer.Data == nil {
		return shape{}, fmt.Errorf("the answer has %d errors", len(answer.Errors))
	}
	var s shape
	for _, e := range answer.Data.Users.Edges {
		s.users++
		for _, p := range e.Node.Posts {
			s.posts++
			for _, c := range p.Comments {
				s.comments++
				if c.Author != nil && c.Author.ID != "" {
					s.authors++
				}
			}
		}
	}
	return s, nil
}
