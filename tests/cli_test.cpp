// The gptq command line and the C example, run as a user would.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "test_util.h"

namespace {

struct Outcome {
  int exit_code = -1;
  std::string out;
};

Outcome run_command(const std::string& command) {
  Outcome r;
  FILE* pipe = popen((command + " 2>/dev/null").c_str(), "r");
  if (pipe == nullptr) return r;
  std::array<char, 4096> buffer;
  size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) r.out.append(buffer.data(), n);
  const int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string gptq() { return gptq::test::binary_dir() + "/gptq"; }
std::string tinydoc() { return gptq::test::shared_path("models/tinydoc-llama-13m"); }

TEST(Cli, UsageErrorsExitWithTwo) {
  EXPECT_EQ(run_command(gptq()).exit_code, 2);
  EXPECT_EQ(run_command(gptq() + " frobnicate").exit_code, 2);
  EXPECT_EQ(run_command(gptq() + " generate --prompt hi").exit_code, 2);
  EXPECT_EQ(run_command(gptq() + " generate --model x --prompt hi --max-new-tokens lots").exit_code, 2);
  EXPECT_EQ(run_command(gptq() + " inspect --bogus").exit_code, 2);
  const Outcome help = run_command(gptq() + " generate --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--temperature"), std::string::npos);
  EXPECT_EQ(run_command(gptq() + " --version").exit_code, 0);
}

TEST(Cli, FailuresExitWithOne) {
  EXPECT_EQ(run_command(gptq() + " inspect /no/such/dir").exit_code, 1);
  GPTQ_REQUIRE_PATH(tinydoc());
  EXPECT_EQ(run_command(gptq() + " perplexity --model " + tinydoc() + " --file /no/such/file").exit_code, 1);
}

TEST(Cli, InspectJson) {
  GPTQ_REQUIRE_PATH(tinydoc());
  const Outcome r = run_command(gptq() + " inspect " + tinydoc() + " --json");
  ASSERT_EQ(r.exit_code, 0);
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["architecture"], "llama");
  EXPECT_EQ(j["n_layers"], 6);
  EXPECT_TRUE(j["quantization"].is_null());
}

TEST(Cli, GenerateJsonAndStreaming) {
  GPTQ_REQUIRE_PATH(tinydoc());
  const Outcome j = run_command(gptq() + " generate --model " + tinydoc() +
                    " --prompt 'The history of the city' --max-new-tokens 12 --json");
  ASSERT_EQ(j.exit_code, 0);
  const auto parsed = nlohmann::json::parse(j.out);
  const auto& result = parsed["results"][0];
  EXPECT_EQ(result["tokens"].size(), 12u);
  EXPECT_EQ(result["stop_reason"], "length");
  EXPECT_GT(parsed["timings"]["generated_tokens_per_second"].get<double>(), 0.0);

  const Outcome streamed = run_command(gptq() + " generate --model " + tinydoc() +
                           " --prompt 'The history of the city' --max-new-tokens 12");
  ASSERT_EQ(streamed.exit_code, 0);
  EXPECT_EQ(streamed.out, "The history of the city" + result["text"].get<std::string>() + "\n");
}

TEST(Cli, PerplexityJson) {
  GPTQ_REQUIRE_PATH(tinydoc());
  const Outcome r = run_command(gptq() + " perplexity --model " + tinydoc() + " --file " +
                    gptq::test::shared_path("data/wikitext-2/test.txt") + " --ctx 128 --max-windows 3 --json");
  ASSERT_EQ(r.exit_code, 0);
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["windows"], 3);
  EXPECT_EQ(j["tokens_scored"], 3 * 127);
  EXPECT_GT(j["perplexity"].get<double>(), 5.0);

  const Outcome read_in = run_command(gptq() + " perplexity --model " + tinydoc() + " --file " +
                          gptq::test::shared_path("data/wikitext-2/test.txt") +
                          " --ctx 128 --max-windows 3 --no-mmap --json");
  ASSERT_EQ(read_in.exit_code, 0);
  EXPECT_EQ(nlohmann::json::parse(read_in.out)["perplexity"], j["perplexity"]);
}

TEST(Cli, QuantizeFromJsonLinesWritesACheckpoint) {
  GPTQ_REQUIRE_PATH(tinydoc());
  const std::string dir = gptq::test::scratch_dir("cli-quantize");
  const std::string calib = dir + "/calib.jsonl";
  {
    std::ofstream out(calib);
    out << "{\"text\": \"The history of the city begins with a small harbour and a market.\"}\n";
    out << "{\"input_ids\": [1, 415, 3340, 302, 272, 2990, 349, 1135, 297, 264, 1741, 287]}\n";
  }
  const std::string command = gptq() + " quantize --model " + tinydoc() + " --out " + dir + "/w4 --bits 4 " +
                              "--group-size 64 --desc-act --calib " + calib + " --seqlen 64 --json";
  const Outcome r = run_command(command);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto report = nlohmann::json::parse(r.out);
  EXPECT_EQ(report["calibration_samples"], 2);
  EXPECT_EQ(report["modules"].size(), 6u * 7u);
  EXPECT_LT(report["weight_bytes_after"].get<double>(), 0.5 * report["weight_bytes_before"].get<double>());
  const Outcome inspected = run_command(gptq() + " inspect " + dir + "/w4 --json");
  ASSERT_EQ(inspected.exit_code, 0);
  const auto info = nlohmann::json::parse(inspected.out);
  EXPECT_EQ(info["quantization"]["bits"], 4);
  EXPECT_EQ(info["quantization"]["group_size"], 64);

  EXPECT_EQ(run_command(command).exit_code, 1);  // the output directory exists now
  std::ofstream(calib) << "{\"input_ids\": [1, 99999999]}\n";
  EXPECT_EQ(run_command(gptq() + " quantize --model " + tinydoc() + " --out " + dir + "/bad --calib " + calib +
                        " --json").exit_code,
            1);  // a token id past the vocabulary
}

TEST(Examples, CGenerateStreams) {
  GPTQ_REQUIRE_PATH(tinydoc());
  const Outcome r = run_command(gptq::test::binary_dir() + "/example_generate " + tinydoc() + " 'The history of the city' 8");
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("The history of the city"), std::string::npos);
  EXPECT_NE(r.out.find("[8 tokens"), std::string::npos);
  EXPECT_EQ(run_command(gptq::test::binary_dir() + "/example_generate /no/such/model").exit_code, 1);
}

}  // namespace
