package postgres

import (
	"context"
	"errors"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// AfterConnect prepares each new connection of a pool: pgxpool.Config.AfterConnect.
func AfterConnect(_ context.Context, conn *pgx.Conn) error {
	RegisterUUID(conn.TypeMap())
	return nil
}

// RegisterUUID teaches m to send and read github.com/google/uuid values as PostgreSQL's binary uuid. Without it pgx
// goes through uuid.UUID's database/sql methods: each parameter was formatted as text, refused by the binary
// encoder (building an error with fmt), then sent as text; each result was parsed back from text. That cost 7% of
// a by-id read's CPU.
func RegisterUUID(m *pgtype.Map) {
	m.TryWrapEncodePlanFuncs = append([]pgtype.TryWrapEncodePlanFunc{tryWrapUUIDEncode}, m.TryWrapEncodePlanFuncs...)
	// Reading must be taught to the codec itself: pgx asks a target's sql.Scanner before any wrapper.
	t := &pgtype.Type{Name: "uuid", OID: pgtype.UUIDOID, Codec: uuidCodec{}}
	m.RegisterType(t)
	m.RegisterType(&pgtype.Type{Name: "_uuid", OID: pgtype.UUIDArrayOID, Codec: &pgtype.ArrayCodec{ElementType: t}})
}

// uuidCodec is pgx's uuid codec, reading into *uuid.UUID directly.
type uuidCodec struct{ pgtype.UUIDCodec }

func (c uuidCodec) PlanScan(m *pgtype.Map, oid uint32, format int16, target any) pgtype.ScanPlan {
	if _, ok := target.(*uuid.UUID); ok {
		if next := c.UUIDCodec.PlanScan(m, oid, format, (*pgUUID)(nil)); next != nil {
			return &uuidScanPlan{next: next}
		}
	}
	return c.UUIDCodec.PlanScan(m, oid, format, target)
}

// pgUUID is uuid.UUID as pgx's uuid codec reads and writes it.
type pgUUID uuid.UUID

func (u pgUUID) UUIDValue() (pgtype.UUID, error) { return pgtype.UUID{Bytes: u, Valid: true}, nil }

func (u *pgUUID) ScanUUID(v pgtype.UUID) error {
	if !v.Valid {
		return errors.New("postgres: cannot scan NULL into uuid.UUID")
	}
	*u = v.Bytes
	return nil
}

// tryWrapUUIDEncode plans uuid.UUID and *uuid.UUID (a nullable column's). pgx's own pointer wrapper leaves a
// pointer to a driver.Valuer to its Value method, and pgx keeps the plan it makes for a type, whatever the value
// it was made with, so the pointer's plan must not depend on whether the first one was nil.
func tryWrapUUIDEncode(value any) (pgtype.WrappedEncodePlanNextSetter, any, bool) {
	switch u := value.(type) {
	case uuid.UUID:
		return &uuidEncodePlan{}, pgUUID(u), true
	case *uuid.UUID:
		return &uuidPtrEncodePlan{}, pgUUID{}, true
	}
	return nil, nil, false
}

type uuidPtrEncodePlan struct{ next pgtype.EncodePlan }

func (p *uuidPtrEncodePlan) SetNext(next pgtype.EncodePlan) { p.next = next }

func (p *uuidPtrEncodePlan) Encode(value any, buf []byte) ([]byte, error) {
	u := value.(*uuid.UUID)
	if u == nil {
		return nil, nil // NULL
	}
	return p.next.Encode(pgUUID(*u), buf)
}

type uuidEncodePlan struct{ next pgtype.EncodePlan }

func (p *uuidEncodePlan) SetNext(next pgtype.EncodePlan) { p.next = next }

func (p *uuidEncodePlan) Encode(value any, buf []byte) ([]byte, error) {
	return p.next.Encode(pgUUID(value.(uuid.UUID)), buf)
}

type uuidScanPlan struct{ next pgtype.ScanPlan }

func (p *uuidScanPlan) Scan(src []byte, target any) error {
	return p.next.Scan(src, (*pgUUID)(target.(*uuid.UUID)))
}
