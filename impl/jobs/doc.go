// Package jobs holds Junction's River workers, one file per job kind, and [NewClient], which registers them all.
// The job args are declared in the service package (jobargs.go), and the services insert them in the same
// transaction as the writes that cause them; the workers reach data only through the services ([Services]).
package jobs
