package password

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestHashAndVerify(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := NewHasher(Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1})

	encoded, err := h.Hash(ctx, "correct horse battery staple")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(encoded, "$argon2id$v=19$m=64,t=1,p=1$"), encoded)
	require.NotContains(t, encoded, "correct horse")

	again, err := h.Hash(ctx, "correct horse battery staple")
	require.NoError(t, err)
	require.NotEqual(t, encoded, again, "each hash has its own salt")

	// A hasher with other parameters still verifies old hashes: the parameters travel in the hash.
	other := NewHasher(Params{MemoryKiB: 128, Iterations: 2, Parallelism: 1})
	tests := []struct {
		name  string
		plain string
		want  bool
	}{
		{"right password", "correct horse battery staple", true},
		{"wrong password", "correct horse battery stapl", false},
		{"empty password", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := other.Verify(ctx, tt.plain, encoded)
			require.NoError(t, err)
			require.Equal(t, tt.want, ok)
		})
	}
}

func TestVerifyMalformed(t *testing.T) {
	t.Parallel()
	h := NewHasher(Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1})
	for _, encoded := range []string{
		"", "plain", "$argon2i$v=19$m=64,t=1,p=1$c2FsdA$a2V5", "$argon2id$v=18$m=64,t=1,p=1$c2FsdA$a2V5",
		"$argon2id$v=19$m=x,t=1,p=1$c2FsdA$a2V5", "$argon2id$v=19$m=64,t=1,p=1$!!$a2V5", "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$",
	} {
		_, err := h.Verify(context.Background(), "pw", encoded)
		require.True(t, errors.Is(err, ErrMalformedHash), "%q: %v", encoded, err)
	}
}

// TestStandInHashMatchesARealOne: the hash that a sign-in for an unknown email verifies against costs what a real
// user's does (the same parameters, salt and key lengths), and exists before the first such sign-in, which would
// otherwise pay for making it too.
func TestStandInHashMatchesARealOne(t *testing.T) {
	t.Parallel()
	tests := []Params{
		{MemoryKiB: 64, Iterations: 1, Parallelism: 1},
		{MemoryKiB: 256, Iterations: 3, Parallelism: 2},
	}
	for _, p := range tests {
		h := NewHasher(p)
		require.NotEmpty(t, h.dummy, "made up front")
		genuine, err := h.Hash(context.Background(), "a real password")
		require.NoError(t, err)
		dp, dsalt, dkey, err := decode(h.dummy)
		require.NoError(t, err)
		rp, rsalt, rkey, err := decode(genuine)
		require.NoError(t, err)
		require.Equal(t, rp, dp)
		require.Equal(t, p, dp)
		require.Len(t, dsalt, len(rsalt))
		require.Len(t, dkey, len(rkey))
		require.NoError(t, h.VerifyNothing(context.Background(), "a real password"))
	}
}
