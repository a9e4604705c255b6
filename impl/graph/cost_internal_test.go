package graph

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestListCostSaturates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		child, n int
		want     int
	}{
		{"one level", 3, 20, 61},
		{"an empty page still costs the field", 5, 0, 1},
		{"past the range stays at the maximum", math.MaxInt / 50, 100, math.MaxInt},
		{"saturated stays saturated", math.MaxInt, 2, math.MaxInt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, listCost(tt.child, tt.n))
		})
	}
}
