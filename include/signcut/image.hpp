// signcut: image input and output.
#pragma once
