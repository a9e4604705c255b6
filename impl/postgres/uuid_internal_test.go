package postgres

import (
	"fmt"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/stretchr/testify/require"
)

// TestUUIDParametersSkipTheirValuer: every form a query passes a uuid in (plain, a nullable column's pointer, nil
// or not, and arrays) is encoded as binary directly, never through uuid.UUID's database/sql Value method, whose
// text pgx formats, fails to encode as binary (building an error) and then parses.
func TestUUIDParametersSkipTheirValuer(t *testing.T) {
	t.Parallel()
	id := uuid.New()
	for _, tc := range []struct {
		name  string
		oid   uint32
		value any
	}{
		{"plain", pgtype.UUIDOID, id},
		{"pointer", pgtype.UUIDOID, &id},
		{"nil pointer first", pgtype.UUIDOID, (*uuid.UUID)(nil)},
		{"array", pgtype.UUIDArrayOID, []uuid.UUID{id}},
		{"array of pointers", pgtype.UUIDArrayOID, []*uuid.UUID{&id, nil}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := pgtype.NewMap()
			RegisterUUID(m)
			plan := m.PlanEncode(tc.oid, pgtype.BinaryFormatCode, tc.value)
			require.NotNil(t, plan)
			require.NotContains(t, fmt.Sprintf("%T", plan), "DriverValuer")
			_, err := plan.Encode(tc.value, nil)
			require.NoError(t, err)
			// The plan pgx keeps for the type serves the other values too.
			if _, ok := tc.value.(*uuid.UUID); ok {
				buf, err := m.PlanEncode(tc.oid, pgtype.BinaryFormatCode, &id).Encode(&id, nil)
				require.NoError(t, err)
				require.Equal(t, id[:], buf)
				buf, err = m.PlanEncode(tc.oid, pgtype.BinaryFormatCode, (*uuid.UUID)(nil)).Encode((*uuid.UUID)(nil), nil)
				require.NoError(t, err)
				require.Nil(t, buf, "NULL")
			}
		})
	}
}
