// Builds Prometheus text exposition (version 0.0.4): one HELP/TYPE block per metric family.
#pragma once
#include <cstdint>
#include <string>

namespace hn {

class PrometheusText {
 public:
  // labels: already formatted, e.g. code="200"; empty for none.
  PrometheusText& family(const std::string& name, const char* type, const std::string& help);
  PrometheusText& sample(const std::string& name, double value, const std::string& labels = "");
  PrometheusText& counter(const std::string& name, const std::string& help, double value);
  PrometheusText& gauge(const std::string& name, const std::string& help, double value);
  const std::string& str() const { return out_; }

 private:
  std::string out_;
};

std::string format_number(double v);

}  // namespace hn
