package graph

import (
	"context"

	"github.com/junction-dev/junction/gen/gql"
	"github.com/junction-dev/junction/impl/service"
)

type mutationResolver struct{ *Resolver }

func (r mutationResolver) CreateUser(ctx context.Context, in gql.CreateUserInput) (*gql.User, error) {
	u, err := r.svc.Users.Create(ctx, service.CreateUserInput{Name: in.Name, Email: in.Email, Password: in.Password})
	if err != nil {
		return nil, err
	}
	return toGQLUser(u), nil
}

func (r mutationResolver) Login(ctx context.Context, email, password string) (*gql.AuthPayload, error) {
	tok, err := r.svc.Accounts.Login(ctx, email, password)
	if err != nil {
		return nil, err
	}
	return &gql.AuthPayload{AccessToken: tok.AccessToken, TokenType: "Bearer", ExpiresIn: int(tok.ExpiresIn.Seconds()), User: toGQLUser(tok.User)}, nil
}

func (r mutationResolver) UpdateUser(ctx context.Context, id string, in gql.UpdateUserInput) (*gql.User, error) {
	uid, err := parseID("id", id)
	if err != nil {
		return nil, err
	}
	u, err := r.svc.Users.Update(ctx, uid, service.UpdateUserInput{
		Name: in.Name, Email: in.Email, Password: in.Password, CurrentPassword: in.CurrentPassword,
	})
	if err != nil {
		return nil, err
	}
	return toGQLUser(u), nil
}

func (r mutationResolver) DeleteUser(ctx context.Context, id string) (bool, error) {
	uid, err := parseID("id", id)
	if err != nil {
		return false, err
	}
	// GraphQL has no entity-tags: its writes are unconditional.
	if err := r.svc.Users.Delete(ctx, uid, service.MatchAny()); err != nil {
		return false, err
	}
	return true, nil
}

func (r mutationResolver) CreatePost(ctx context.Context, in gql.CreatePostInput) (*gql.Post, error) {
	p, err := r.svc.Posts.Create(ctx, service.CreatePostInput{Title: in.Title, Content: in.Content, Published: deref(in.Published)})
	if err != nil {
		return nil, err
	}
	return toGQLPost(p), nil
}

func (r mutationResolver) PublishPost(ctx context.Context, id string) (*gql.Post, error) {
	pid, err := parseID("id", id)
	if err != nil {
		return nil, err
	}
	p, err := r.svc.Posts.Publish(ctx, pid, service.MatchAny()) // no entity-tags in GraphQL: unconditional
	if err != nil {
		return nil, err
	}
	return toGQLPost(p), nil
}

func (r mutationResolver) CreateComment(ctx context.Context, in gql.CreateCommentInput) (*gql.Comment, error) {
	pid, err := parseID("postId", in.PostID)
	if err != nil {
		return nil, err
	}
	c, err := r.svc.Comments.Create(ctx, pid, in.Content)
	if err != nil {
		return nil, err
	}
	return toGQLComment(c), nil
}
