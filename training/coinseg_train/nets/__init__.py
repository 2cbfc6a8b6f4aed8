"""Networks: classifier, generators (COIN and Singla et al.*), discriminator."""
