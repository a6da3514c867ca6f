// Names of signals and of their si_code values, as a developer reads them.
#pragma once

#include <string>

#include "engine/arch.h"

namespace usercrash::engine {

// "SIGSEGV"; "SIG34" style for real-time signals; "SIG?" for nonsense.
std::string signal_name(int signo);

// "SEGV_MAPERR", "SI_USER", "FPE_INTDIV"...; "?" when unknown. Signal
// numbers are the same on every architecture read (asm-generic); a few
// si_codes exist on one only (SEGV_MTEAERR on aarch64, SEGV_CPERR on x86):
// `arch` names them for its own and leaves the others unknown.
std::string signal_code_name(int signo, int code, ArchId arch = ArchId::x86_64);

// True for codes that the kernel sets for a fault (si_addr meaningful).
bool signal_has_fault_address(int signo, int code);

// True for codes that mean another process (or the process itself) sent the
// signal, so si_pid / si_uid are meaningful.
bool signal_sent_by_process(int code);

}  // namespace usercrash::engine
