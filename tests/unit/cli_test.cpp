// The one option parser of the five programs (util/cli.h), and usercrash_c's
// use of it: both forms of a value, the same error messages everywhere.
#include "util/cli.h"

#include <gtest/gtest.h>

#include "client/client_context.h"

namespace usercrash::util {
namespace {

// argv-style storage for a test's arguments.
struct Args {
  explicit Args(std::vector<std::string> args) : strings(std::move(args)) {
    for (auto& s : strings) pointers.push_back(s.data());
  }
  std::span<char* const> span() const { return pointers; }
  std::vector<std::string> strings;
  std::vector<char*> pointers;
};

const OptionSpec kSpecs[] = {
    {"config", 'c', true}, {"json", 'j', false}, {"verbose", 'v', false}, {"version", 'V', false}, {"mode", 0, true},
};

Result<ParsedArgs> parse(std::vector<std::string> args, OperandOrder order = OperandOrder::anywhere) {
  Args a(std::move(args));
  return parse_options(a.span(), kSpecs, order);
}

TEST(ParseOptions, EveryFormOfAValue) {
  for (auto args : std::vector<std::vector<std::string>>{
           {"-c", "/x.conf"}, {"-c/x.conf"}, {"--config", "/x.conf"}, {"--config=/x.conf"}, {"--conf=/x.conf"}}) {
    auto p = parse(args);
    ASSERT_TRUE(p) << args[0] << ": " << p.error().message;
    EXPECT_EQ(p->value("config"), "/x.conf") << args[0];
    EXPECT_TRUE(p->operands.empty());
  }
}

TEST(ParseOptions, ClusteredFlagsOperandsAnywhereAndTheLastValueWins) {
  auto p = parse({"one", "-jv", "two", "--mode", "a", "--mode=b", "--", "-three"});
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_TRUE(p->has("json"));
  EXPECT_TRUE(p->has("verbose"));
  EXPECT_FALSE(p->has("config"));
  EXPECT_EQ(p->value("mode"), "b");
  EXPECT_EQ(p->operands, (std::vector<std::string>{"one", "two", "-three"}));
}

TEST(ParseOptions, OptionsFirstStopsAtTheFirstOperand) {
  auto p = parse({"-j", "123", "-x", "--json"}, OperandOrder::options_first);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_TRUE(p->has("json"));
  EXPECT_EQ(p->operands, (std::vector<std::string>{"123", "-x", "--json"}));
}

TEST(ParseOptions, ErrorsNameTheOption) {
  auto message = [](std::vector<std::string> args) {
    auto p = parse(std::move(args));
    return p ? std::string("(parsed)") : p.error().message;
  };
  EXPECT_EQ(message({"--bogus"}), "unknown option '--bogus'");
  EXPECT_EQ(message({"--bogus=1"}), "unknown option '--bogus'");
  EXPECT_EQ(message({"-x"}), "unknown option '-x'");
  EXPECT_EQ(message({"-jx"}), "unknown option '-x'");
  EXPECT_EQ(message({"--config"}), "option '--config' needs a value");
  EXPECT_EQ(message({"-c"}), "option '-c' needs a value");
  EXPECT_EQ(message({"--config="}), "option '--config' needs a value");
  EXPECT_EQ(message({"--json=yes"}), "option '--json' takes no value");
  EXPECT_EQ(message({"--ver"}), "option '--ver' is ambiguous");
  EXPECT_EQ(message({"--\x1b[31m"}), "unknown option '--\\x1b[31m'");
}

TEST(ParseOptions, RepeatedCallsStartOver) {
  ASSERT_FALSE(parse({"-j", "--bogus"}));
  auto p = parse({"a", "-v"});
  ASSERT_TRUE(p);
  EXPECT_EQ(p->operands, std::vector<std::string>{"a"});
  EXPECT_TRUE(p->has("verbose"));
}

TEST(UsageErrorText, OneShape) {
  EXPECT_EQ(usage_error_text("debugger", "missing PID"),
            "debugger: missing PID\nTry 'debugger --help' for more information.\n");
}

Result<client::ClientContext> client_args(std::vector<std::string> args) {
  args.insert(args.begin(), "usercrash_c");
  Args a(std::move(args));
  return client::parse_client_args(static_cast<int>(a.pointers.size()), a.pointers.data());
}

TEST(ClientArgs, KernelFieldsAttachedOrSeparate) {
  for (auto first : std::vector<std::vector<std::string>>{{"-k3:101:1000:1000:1700000000:1:0"},
                                                          {"-k", "3:101:1000:1000:1700000000:1:0"},
                                                          {"--kernel=3:101:1000:1000:1700000000:1:0"}}) {
    std::vector<std::string> args = first;
    args.insert(args.end(), {"100", "crasher", "11"});
    auto ctx = client_args(args);
    ASSERT_TRUE(ctx) << first[0] << ": " << ctx.error().message;
    EXPECT_EQ(ctx->pidfd, 3);
    EXPECT_EQ(ctx->tid, 101);
    EXPECT_EQ(ctx->uid, 1000u);
    EXPECT_EQ(ctx->time, 1700000000);
    EXPECT_EQ(ctx->dumpable, 1);
    EXPECT_EQ(ctx->core_limit, 0u);
    EXPECT_EQ(ctx->pid, 100);
    EXPECT_EQ(ctx->comm, "crasher");
    EXPECT_EQ(ctx->signal, 11);
  }
}

// Issue 9.6: the kernel puts the process's name where COMM is; a name that
// begins with '-' is a name, not an option.
TEST(ClientArgs, ACommThatLooksLikeAnOptionIsTheComm) {
  for (const char* comm : {"-x", "--help", "-k", "--"}) {
    auto ctx = client_args({"-k3:::::1:0", "100", comm, "11"});
    ASSERT_TRUE(ctx) << comm << ": " << ctx.error().message;
    EXPECT_EQ(ctx->comm, comm);
    EXPECT_EQ(ctx->signal, 11);
  }
  auto with_dashes = client_args({"-k3:::::1:0", "--", "100", "-x", "11"});
  ASSERT_TRUE(with_dashes) << with_dashes.error().message;
  EXPECT_EQ(with_dashes->comm, "-x");
}

TEST(ClientArgs, ErrorsSayWhatWasWrong) {
  auto error = [](std::vector<std::string> args) {
    auto ctx = client_args(std::move(args));
    return ctx ? std::string("(parsed)") : ctx.error().message;
  };
  EXPECT_EQ(error({"--bogus", "1", "c", "11"}), "unknown option '--bogus'");
  EXPECT_EQ(error({"--pidfd", "x", "1", "c", "11"}), "--pidfd: 'x' is not a number");
  EXPECT_EQ(error({"--pidfd", "-1", "1", "c", "11"}), "--pidfd: negative fd");
  EXPECT_EQ(error({"-k"}), "option '-k' needs a value");
  EXPECT_EQ(error({"1", "c"}), "expected PID COMM SIGNAL, got 2 arguments");
  EXPECT_EQ(error({"-o", "count", "1", "c", "11"}), "--set needs KEY=VALUE");
  auto set = client_args({"-o", "count=5", "--set=save_core=yes", "1", "c", "11"});
  ASSERT_TRUE(set);
  EXPECT_EQ(set->overrides.size(), 2u);
  auto kernel = client_args({"--kernel-connection", "5"});
  ASSERT_TRUE(kernel) << kernel.error().message;
  EXPECT_TRUE(kernel->kernel_connection);
  EXPECT_EQ(kernel->core_fd, 5);
  auto warm = client_args({"--warm-collector", "3", "-c", "/etc/x.conf"});
  ASSERT_TRUE(warm) << warm.error().message;
  EXPECT_EQ(warm->warm_channel, 3);
  EXPECT_FALSE(warm->kernel_connection);
  EXPECT_EQ(error({"--warm-collector", "3", "1", "c", "11"}), "--warm-collector takes no PID COMM SIGNAL");
  EXPECT_EQ(error({"--warm-collector", "3", "--kernel-connection", "4"}),
            "--warm-collector and --kernel-connection exclude each other");
  EXPECT_EQ(error({"--warm-collector", "-2"}), "--warm-collector: negative fd");
}

}  // namespace
}  // namespace usercrash::util
