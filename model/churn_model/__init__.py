"""Telco churn training pipeline: CSV -> validated records -> features -> XGBoost -> ONNX bundle."""
