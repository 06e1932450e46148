#include "util/prometheus.h"

#include <cmath>
#include <cstdio>

namespace hn {

std::string format_number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<int64_t>(v));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

PrometheusText& PrometheusText::family(const std::string& name, const char* type, const std::string& help) {
  out_ += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  return *this;
}

PrometheusText& PrometheusText::sample(const std::string& name, double value, const std::string& labels) {
  out_ += name;
  if (!labels.empty()) out_ += "{" + labels + "}";
  out_ += " " + format_number(value) + "\n";
  return *this;
}

PrometheusText& PrometheusText::counter(const std::string& name, const std::string& help, double value) {
  return family(name, "counter", help).sample(name, value);
}

PrometheusText& PrometheusText::gauge(const std::string& name, const std::string& help, double value) {
  return family(name, "gauge", help).sample(name, value);
}

}  // namespace hn
