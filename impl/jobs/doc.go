// Package jobs holds Junction's River workers, one file per job kind, and [NewClient], which registers them all.
// The job args are declared in the service (jobargs.go), which inserts them in the same transaction as the writes
// that cause them.
package jobs
