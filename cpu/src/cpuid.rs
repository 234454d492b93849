//! CPUID: the identity and feature bits Wax reports (placeholder being
//! filled in).
