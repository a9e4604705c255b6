package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestLoadDefaults(t *testing.T) {
	t.Parallel()
	c, err := Load(func(k string) string { return map[string]string{"DATABASE_URL": "postgres://db"}[k] })
	require.NoError(t, err)
	require.Equal(t, 8080, c.Port)
	require.False(t, c.Development())
	require.Equal(t, DBConfig{
		MaxConns: 20, MinConns: 5, MaxConnIdleTime: 30 * time.Second, MaxConnLifetime: time.Hour,
		ConnectTimeout: 2 * time.Second, WaitTimeout: 30 * time.Second,
	}, c.DB)
	require.Equal(t, Argon2Config{MemoryKiB: 19456, Iterations: 2, Parallelism: 1}, c.Argon2)
}

func TestLoadOverridesAndErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		check   func(t *testing.T, c Config)
		wantErr []string
	}{
		{
			name: "overrides",
			env: map[string]string{"DATABASE_URL": "postgres://db", "APP_ENV": "development", "PORT": "9000",
				"DB_MAX_CONNS": "50", "DB_MIN_CONNS": "0", "DB_CONNECT_TIMEOUT": "500ms", "ARGON2_MEMORY_KIB": "65536"},
			check: func(t *testing.T, c Config) {
				require.True(t, c.Development())
				require.Equal(t, 9000, c.Port)
				require.EqualValues(t, 50, c.DB.MaxConns)
				require.EqualValues(t, 0, c.DB.MinConns)
				require.Equal(t, 500*time.Millisecond, c.DB.ConnectTimeout)
				require.EqualValues(t, 65536, c.Argon2.MemoryKiB)
			},
		},
		{name: "no database", env: map[string]string{}, wantErr: []string{"DATABASE_URL is required"}},
		{
			name:    "every bad value is reported",
			env:     map[string]string{"DATABASE_URL": "x", "PORT": "http", "DB_IDLE": "", "DB_MAX_CONN_IDLE_TIME": "soon"},
			wantErr: []string{"PORT", "DB_MAX_CONN_IDLE_TIME"},
		},
		{name: "min above max", env: map[string]string{"DATABASE_URL": "x", "DB_MIN_CONNS": "30"}, wantErr: []string{"DB_MIN_CONNS"}},
		{name: "argon2 parallelism out of range", env: map[string]string{"DATABASE_URL": "x", "ARGON2_PARALLELISM": "300"}, wantErr: []string{"ARGON2_PARALLELISM"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(func(k string) string { return tt.env[k] })
			if tt.wantErr == nil {
				require.NoError(t, err)
				tt.check(t, c)
				return
			}
			for _, want := range tt.wantErr {
				require.ErrorContains(t, err, want)
			}
		})
	}
}
