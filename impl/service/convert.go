package service

import "github.com/junction-dev/junction/gen/db"

// toUser drops the password hash: it is the only way a db.User leaves this package.
func toUser(r db.User) User {
	return User{ID: r.ID, Name: r.Name, Email: r.Email, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}
