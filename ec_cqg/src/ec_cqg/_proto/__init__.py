"""Generated protobuf code (see ec_cqg/tools/generate_proto.py). Do not edit."""
