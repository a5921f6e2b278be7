"""The Sluice Scrapy project."""
