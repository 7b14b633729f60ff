// The smallest program a README reader writes: only the umbrella header,
// linked against the core library alone (pkg-config signcut-core, or CMake's
// signcut::core) or against everything.
#include <signcut/signcut.hpp>
int main() {
  signcut::Tensor x = xt::ones<float>({8, 8});
  signcut::DecomposeOptions o; o.width = 2;
  auto d = signcut::decompose(x, o);
  return d.reconstruct().size() == 64 ? 0 : 1;
}
