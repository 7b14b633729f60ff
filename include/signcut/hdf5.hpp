// signcut: hdf5 input and output.
#pragma once
