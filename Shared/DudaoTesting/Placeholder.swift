enum _PlaceholderDudaoTesting {}
