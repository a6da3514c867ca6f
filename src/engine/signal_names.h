// Names of signals and of their si_code values, as a developer reads them.
#pragma once

#include <string>

namespace usercrash::engine {

// "SIGSEGV"; "SIG34" style for real-time signals; "SIG?" for nonsense.
std::string signal_name(int signo);

// "SEGV_MAPERR", "SI_USER", "FPE_INTDIV"...; "?" when unknown.
std::string signal_code_name(int signo, int code);

// True for codes that the kernel sets for a fault (si_addr meaningful).
bool signal_has_fault_address(int signo, int code);

// True for codes that mean another process (or the process itself) sent the
// signal, so si_pid / si_uid are meaningful.
bool signal_sent_by_process(int code);

}  // namespace usercrash::engine
