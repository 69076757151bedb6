/*
 * The posix conformance runners take main() and every case from libconformance.a (linked
 * whole); cmake wants at least one source of the executable itself, and this is it.
 */
