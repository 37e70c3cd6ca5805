#include "backend/placement.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "core/error.h"

namespace gptq {

int32_t Placement::n_gpu_layers() const {
  return static_cast<int32_t>(std::count_if(layers.begin(), layers.end(), [](DeviceId d) { return d.is_gpu(); }));
}

std::optional<DeviceId> Placement::gpu() const {
  if (embedding.is_gpu()) return embedding;
  for (DeviceId d : layers) {
    if (d.is_gpu()) return d;
  }
  if (head.is_gpu()) return head;
  return std::nullopt;
}

std::string Placement::summary() const {
  // The devices in use, GPUs first in the order the parts meet them.
  std::vector<DeviceId> used;
  auto note = [&](DeviceId d) {
    if (std::find(used.begin(), used.end(), d) == used.end()) used.push_back(d);
  };
  note(embedding);
  for (DeviceId d : layers) note(d);
  note(head);
  std::stable_partition(used.begin(), used.end(), [](DeviceId d) { return d.is_gpu(); });
  std::string out;
  for (DeviceId d : used) out += (out.empty() ? "" : "+") + device_name(d);
  return out;
}

std::string Placement::describe() const {
  std::string out = "embedding=" + device_name(embedding);
  for (size_t first = 0; first < layers.size();) {
    size_t last = first;
    while (last + 1 < layers.size() && layers[last + 1] == layers[first]) ++last;
    out += " layers[" + std::to_string(first) + (last > first ? "-" + std::to_string(last) : "") +
           "]=" + device_name(layers[first]);
    first = last + 1;
  }
  return out + " head=" + device_name(head);
}

Placement plan_placement(int64_t n_layers, DeviceId device, int32_t n_gpu_layers, FloatType gpu_compute) {
  Placement p;
  p.gpu_compute = gpu_compute;
  p.layers.assign(static_cast<size_t>(n_layers), kCpu);
  if (!device.is_gpu()) return p;
  const int64_t on_gpu = n_gpu_layers < 0 ? n_layers : std::min<int64_t>(n_gpu_layers, n_layers);
  for (int64_t l = n_layers - on_gpu; l < n_layers; ++l) p.layers[static_cast<size_t>(l)] = device;
  p.embedding = on_gpu == n_layers ? device : kCpu;
  p.head = on_gpu > 0 ? device : kCpu;
  return p;
}

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

template <typename Fn>
void for_each_item(std::string_view list, Fn&& fn) {
  while (!list.empty()) {
    const size_t comma = list.find(',');
    const std::string_view item = trim(list.substr(0, comma));
    if (!item.empty()) fn(item);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
}

// "30GiB", "1.5 GB", "512MiB", "1000000" (bytes).
int64_t parse_bytes(std::string_view text, std::string_view item) {
  text = trim(text);
  size_t end = 0;
  while (end < text.size() && (std::isdigit(static_cast<unsigned char>(text[end])) || text[end] == '.')) ++end;
  double value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + end, value);
  std::string unit(trim(text.substr(end)));
  for (char& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static const std::pair<const char*, double> kUnits[] = {
      {"", 1.0},      {"b", 1.0},      {"kb", 1e3},       {"kib", 1024.0},       {"mb", 1e6},
      {"mib", 1048576.0}, {"gb", 1e9}, {"gib", 1073741824.0}, {"tb", 1e12}, {"tib", 1099511627776.0}};
  const auto* unit_it = std::find_if(std::begin(kUnits), std::end(kUnits), [&](const auto& u) { return unit == u.first; });
  if (end == 0 || ec != std::errc() || ptr != text.data() + end || unit_it == std::end(kUnits) || value < 0) {
    fail(GPTQ_ERR_INVALID_ARGUMENT, "max_memory entry '", item, "': cannot read '", text,
         "' as a size (e.g. 30GiB, 512MB)");
  }
  return static_cast<int64_t>(value * unit_it->second);
}

// Sizes in the unit that keeps two significant decimals meaningful: a
// refusal that says "0.00 GiB placed of 0.00 GiB" tells the user nothing.
std::string format_size(int64_t bytes) {
  char buffer[32];
  const double value = static_cast<double>(bytes);
  if (value >= 1073741824.0)
    std::snprintf(buffer, sizeof buffer, "%.2f GiB", value / 1073741824.0);
  else
    std::snprintf(buffer, sizeof buffer, "%.2f MiB", value / 1048576.0);
  return buffer;
}

}  // namespace

std::vector<DeviceBudget> device_budgets(std::string_view devices, std::string_view max_memory,
                                         int64_t (*default_gpu_bytes)(DeviceId)) {
  std::vector<DeviceBudget> budgets;
  for_each_item(devices, [&](std::string_view spec) {
    const DeviceId d = resolve_device(spec);
    if (std::any_of(budgets.begin(), budgets.end(), [&](const DeviceBudget& b) { return b.device == d; })) {
      fail(GPTQ_ERR_INVALID_ARGUMENT, "device list '", devices, "' names ", device_name(d), " twice");
    }
    budgets.push_back({d, 0, d.is_gpu()});
  });
  if (budgets.empty()) budgets.push_back({kCpu, 0, false});
  std::vector<bool> given(budgets.size(), false);
  for_each_item(max_memory, [&](std::string_view item) {
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      fail(GPTQ_ERR_INVALID_ARGUMENT, "max_memory entry '", item, "' is not DEVICE=SIZE (e.g. cuda:0=30GiB)");
    }
    const DeviceId d = resolve_device(trim(item.substr(0, eq)));
    auto it = std::find_if(budgets.begin(), budgets.end(), [&](const DeviceBudget& b) { return b.device == d; });
    if (it == budgets.end()) {
      // A budget for a device the list did not name adds it (the CPU, mostly).
      budgets.push_back({d, 0, true});
      given.push_back(false);
      it = budgets.end() - 1;
    }
    it->bytes = parse_bytes(item.substr(eq + 1), item);
    it->limited = true;
    given[static_cast<size_t>(it - budgets.begin())] = true;
  });
  for (size_t i = 0; i < budgets.size(); ++i) {
    if (!given[i] && budgets[i].device.is_gpu()) budgets[i].bytes = default_gpu_bytes(budgets[i].device);
  }
  // GPUs first, in the order given; the CPU last.
  std::stable_partition(budgets.begin(), budgets.end(), [](const DeviceBudget& b) { return b.device.is_gpu(); });
  return budgets;
}

Placement plan_by_memory(const PartCosts& costs, const std::vector<DeviceBudget>& budgets, FloatType gpu_compute) {
  Placement p;
  p.gpu_compute = gpu_compute;
  std::vector<int64_t> used(budgets.size(), 0);
  auto room = [&](size_t i, int64_t bytes) { return !budgets[i].limited || used[i] + bytes <= budgets[i].bytes; };
  auto cost_on = [&](size_t i, int64_t layer) {
    return costs.layers[static_cast<size_t>(layer)] +
           (budgets[i].device.is_gpu() ? costs.kv_per_layer : costs.kv_per_layer_cpu);
  };
  // The embedding and head on the first device that holds both.
  const int64_t ends = costs.embedding + costs.head;
  size_t first = 0;
  while (first < budgets.size() && !room(first, ends)) ++first;
  auto refuse = [&](const std::string& what, int64_t bytes) {
    std::string detail;
    for (size_t i = 0; i < budgets.size(); ++i) {
      detail += str_cat("; ", device_name(budgets[i].device), ": ", format_size(used[i]), " placed of ",
                        budgets[i].limited ? format_size(budgets[i].bytes) : std::string("no limit"));
    }
    int64_t total = ends;
    for (size_t l = 0; l < costs.layers.size(); ++l) total += costs.layers[l] + costs.kv_per_layer;
    fail(GPTQ_ERR_OUT_OF_MEMORY, "the model does not fit the devices given: ", what, " needs ", format_size(bytes),
         " (the whole model about ", format_size(total), " with its KV cache)", detail);
  };
  if (first == budgets.size()) refuse("the embeddings and head", ends);
  p.embedding = p.head = budgets[first].device;
  used[first] += ends;
  size_t device = 0;
  p.layers.resize(costs.layers.size());
  for (size_t l = 0; l < costs.layers.size(); ++l) {
    while (device < budgets.size() && !room(device, cost_on(device, static_cast<int64_t>(l)))) ++device;
    if (device == budgets.size()) refuse(str_cat("layer ", l), costs.layers[l] + costs.kv_per_layer);
    p.layers[l] = budgets[device].device;
    used[device] += cost_on(device, static_cast<int64_t>(l));
  }
  return p;
}

}  // namespace gptq
