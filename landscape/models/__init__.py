"""Architecture code for the zoo's models, written in this project (no torchvision needed)."""
