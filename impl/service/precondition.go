package service

import "fmt"

// Match is the precondition of a conditional write (HTTP's If-Match and If-None-Match): the versions of the
// resource it may change. The zero value holds for every version, as does [MatchAny]. Writes pass it to their own
// UPDATE or DELETE statement ([Match.Arg], [Match.ExceptArg]), so that of two writers holding the same version
// only one finds it there.
type Match struct {
	versions []int64
	// limited is false for the zero value and MatchAny, whose versions are all.
	limited bool
	// except are versions it never holds for, whatever versions says (If-None-Match's tags).
	except []int64
	// noneMatch is set when If-None-Match made m (see [Match.MayAnswerApplied]).
	noneMatch bool
}

// MatchAny holds for any version of a resource that exists (If-Match: *).
func MatchAny() Match { return Match{} }

// MatchVersions holds for the given versions only; with none, for no version at all (If-None-Match: *).
func MatchVersions(versions ...int64) Match {
	return Match{versions: append(make([]int64, 0, len(versions)), versions...), limited: true}
}

// Except is m, which no longer holds for the given versions (If-None-Match listing them beside If-Match).
func (m Match) Except(versions ...int64) Match {
	m.except = append(append(make([]int64, 0, len(m.except)+len(versions)), m.except...), versions...)
	return m
}

// FromNoneMatch is m, marked as made by If-None-Match too.
func (m Match) FromNoneMatch() Match {
	m.noneMatch = true
	return m
}

// MayAnswerApplied reports whether a write that m does not hold for may answer as done when the resource is
// already as the write would leave it: RFC 9110 (section 13.1.1) lets a failed If-Match do so, as a retry whose
// first answer was lost would otherwise be told that its own change is a conflict. A failed If-None-Match must
// answer 412 (section 13.1.2).
func (m Match) MayAnswerApplied() bool { return m.limited && !m.noneMatch }

// Holds reports whether a resource at version v meets m.
func (m Match) Holds(v int64) bool {
	for _, x := range m.except {
		if x == v {
			return false
		}
	}
	if !m.limited {
		return true
	}
	for _, x := range m.versions {
		if x == v {
			return true
		}
	}
	return false
}

// Arg is m as a statement's if_match argument: nil (SQL NULL) for every version, else the versions, an empty
// array matching none.
func (m Match) Arg() []int64 {
	if !m.limited {
		return nil
	}
	return m.versions
}

// ExceptArg is m as a statement's if_none_match argument: nil (SQL NULL) when no version is excepted, else the
// versions that the row must not have.
func (m Match) ExceptArg() []int64 {
	if len(m.except) == 0 {
		return nil
	}
	return m.except
}

// PreconditionFailed is the error of a conditional write whose [Match] does not hold for the resource's current
// version, which it carries for the caller to read again.
func PreconditionFailed(resource string, current int64) *Error {
	return &Error{
		Code:           EPRECONDITION,
		Message:        fmt.Sprintf("The %s's current version does not meet If-Match or If-None-Match.", resource),
		CurrentVersion: current,
	}
}
